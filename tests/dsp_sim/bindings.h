/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The simulated DSP plays the rpmsg *transport* side, so it needs the rpmsg
 * core's internal ops tables (drivers/rpmsg/rpmsg_internal.h, not an
 * installed header: this test module builds against the full source tree).
 */
#include <linux/mm.h>
#include <linux/of.h>
#include <linux/of_platform.h>
#include <linux/of_reserved_mem.h>
#include <linux/rpmsg.h>
#include "rpmsg_internal.h"
