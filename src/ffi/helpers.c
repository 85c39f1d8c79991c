// SPDX-License-Identifier: GPL-2.0
/*
 * The only C in qda: wrappers for static inline kernel functions (see
 * helpers.h). All driver logic is Rust.
 */
#include <linux/completion.h>
#include <linux/device/bus.h>
#include <linux/dma-direct.h>
#include <linux/dma-map-ops.h>
#include <linux/export.h>
#include <drm/drm_gem.h>
#include <drm/drm_vma_manager.h>

#include "helpers.h"

/* DMA-API debugging requires every mapping to be checked with this. */
int qda_dma_mapping_error(struct device *dev, dma_addr_t addr)
{
	return dma_mapping_error(dev, addr);
}

/* The physical address a bus address of a device without IOMMU names. */
phys_addr_t qda_dma_to_phys(struct device *dev, dma_addr_t addr)
{
	return dma_to_phys(dev, addr);
}

/* The gfp flag that charges an allocation to the caller's memory cgroup. */
gfp_t qda_gfp_account(void)
{
	return __GFP_ACCOUNT;
}

/* Whether DMA of a device is cache coherent (its `dma-coherent`). */
bool qda_dev_is_dma_coherent(struct device *dev)
{
	return dev_is_dma_coherent(dev);
}

/* Makes a user mapping being set up write-combined. */
void qda_vma_set_writecombine(struct vm_area_struct *vma)
{
	vma->vm_page_prot = pgprot_writecombine(vma->vm_page_prot);
}

/*
 * The context-bank bus, exported for the test-only DSP simulator
 * (tests/dsp_sim), which reads call memory through a CB's IOMMU domain as
 * the DSP would. Defined in Rust (src/ffi/bus.rs).
 */
extern const struct bus_type qda_cb_bus;
EXPORT_SYMBOL_GPL(qda_cb_bus);

/* Physical address of a page. */
phys_addr_t qda_page_to_phys(const struct page *page)
{
	return page_to_phys(page);
}

/* Makes a completed completion usable again. */
void qda_reinit_completion(struct completion *x)
{
	reinit_completion(x);
}

/* A reference to a GEM object (also with CONFIG_DRM=m). */
void qda_drm_gem_object_get(struct drm_gem_object *obj)
{
	drm_gem_object_get(obj);
}

/* Drops a reference to a GEM object; may free it. */
void qda_drm_gem_object_put(struct drm_gem_object *obj)
{
	drm_gem_object_put(obj);
}

/* The fake mmap offset of a GEM object's node, in bytes. */
u64 qda_drm_vma_node_offset_addr(struct drm_vma_offset_node *node)
{
	return drm_vma_node_offset_addr(node);
}
