# SPDX-License-Identifier: GPL-2.0
#
# Entry points (see README.md):
#   make demo     set up, build, boot QEMU and show qda's accel nodes
#   make check    set up, build and run every test; ends with "N passed, N failed"
#   make bench    set up, boot QEMU and print the benchmark figures
#   make fuzz     the boundary-value fuzzer at length (QDA_FUZZ_SEED,
#                 QDA_FUZZ_ITERATIONS per child)
#   make modules  build qda.ko against $(KDIR) (QDA_DSP_SIM=1: also the
#                 test-only simulated DSP, qda_dsp_sim.ko)
#   make modules_install  install qda.ko into
#                 $(INSTALL_MOD_PATH)/lib/modules/<release>/updates and run
#                 depmod (the kernel's own modules_install for M= builds)
#   make install  modules_install, plus the udev rules, modprobe.d and
#                 sysusers.d files of packaging/ and qdactl (see README)
#
# KDIR defaults to the cached QEMU test kernel; point it at a board's kernel
# build tree to build for that board. The compiler (GCC or LLVM) and rustc
# are the ones KDIR was built with (scripts/kmake.sh reads its .config).

SHELL := /bin/bash
KDIR ?= $(shell bash scripts/kdir.sh)
INSTALL_MOD_DIR ?= updates
KMAKE = +bash scripts/kmake.sh $(KDIR) QDA_DSP_SIM=$(QDA_DSP_SIM) \
	INSTALL_MOD_DIR=$(INSTALL_MOD_DIR)

.PHONY: modules modules_install install clippy fmt clean demo check bench fuzz setup kernel

modules:
	$(KMAKE) modules

modules_install:
	$(KMAKE) modules_install

clippy:
	$(KMAKE) CLIPPY=1 modules

fmt:
	rustfmt --edition 2021 --config-path $(KDIR)/source/.rustfmt.toml \
		src/qda_main.rs tests/dsp_sim/dsp_sim_main.rs
	cd userspace && cargo fmt
	cd tests/host && cargo fmt

clean:
	$(KMAKE) clean

setup:
	bash scripts/setup.sh

kernel: setup
	bash scripts/build-kernel.sh

demo:
	bash scripts/demo.sh

check:
	bash scripts/check.sh

bench:
	bash scripts/bench.sh

fuzz:
	bash scripts/fuzz.sh

include packaging/install.mk
