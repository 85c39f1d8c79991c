// SPDX-License-Identifier: GPL-2.0
/*
 * The only C in qda: wrappers for static inline kernel functions (see
 * helpers.h). All driver logic is Rust.
 */
#include "helpers.h"

/* DMA-API debugging requires every mapping to be checked with this. */
int qda_dma_mapping_error(struct device *dev, dma_addr_t addr)
{
	return dma_mapping_error(dev, addr);
}
