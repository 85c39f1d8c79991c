/* SPDX-License-Identifier: GPL-2.0 */
/*
 * C declarations qda needs that the 7.3 `kernel` crate does not bind.
 * bindgen turns the items named in bindgen_allowlist into
 * bindings_generated.rs; everything else comes from kernel::bindings.
 */
#include <linux/cma.h>
#include <linux/of_platform.h>
#include <linux/of_reserved_mem.h>
#include <linux/rpmsg.h>
#include <drm/drm_accel.h>
#include <drm/qda_accel.h>
#include "helpers.h"
#include <misc/fastrpc.h>
