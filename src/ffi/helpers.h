/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Wrappers for static inline kernel functions that Rust cannot call
 * directly. Implemented in helpers.c; one line each, no logic.
 */
#include <linux/completion.h>
#include <linux/dma-mapping.h>
#include <linux/of.h>
#include <linux/mm.h>

int qda_dma_mapping_error(struct device *dev, dma_addr_t addr);
phys_addr_t qda_dma_to_phys(struct device *dev, dma_addr_t addr);
bool qda_dev_is_dma_coherent(struct device *dev);
gfp_t qda_gfp_account(void);
void qda_vma_set_writecombine(struct vm_area_struct *vma);
phys_addr_t qda_page_to_phys(const struct page *page);
void qda_reinit_completion(struct completion *x);

/*
 * The kernel crate's rust_helper_drm_gem_object_get/put and
 * rust_helper_drm_vma_node_offset_addr exist only with CONFIG_DRM=y; qda
 * also builds against kernels with DRM=m (defconfig, Debian).
 */
struct drm_gem_object;
struct drm_vma_offset_node;
void qda_drm_gem_object_get(struct drm_gem_object *obj);
void qda_drm_gem_object_put(struct drm_gem_object *obj);
u64 qda_drm_vma_node_offset_addr(struct drm_vma_offset_node *node);
