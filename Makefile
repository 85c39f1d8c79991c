# SPDX-License-Identifier: GPL-2.0
#
# Entry points (see README.md):
#   make demo     set up, build, boot QEMU and show qda's accel nodes
#   make check    set up, build and run every test; ends with "N passed, N failed"
#   make bench    set up, boot QEMU and print the benchmark figures
#   make fuzz     the boundary-value fuzzer at length (QDA_FUZZ_SEED,
#                 QDA_FUZZ_ITERATIONS per child)
#   make modules  build qda.ko and qda_dsp_sim.ko against $(KDIR)
#
# KDIR defaults to the cached QEMU test kernel; point it at a board's kernel
# build tree to build for that board.

SHELL := /bin/bash
KDIR ?= $(shell bash scripts/kdir.sh)
RUSTC_VER := $(shell rustc --version | awk '{print $$2}')
KMAKE = $(MAKE) -C $(KDIR) ARCH=arm64 LLVM=-19 \
	RUST_LIB_SRC=/usr/src/rustc-$(RUSTC_VER)/library M=$(CURDIR)

.PHONY: modules clippy fmt clean demo check bench fuzz setup kernel

modules:
	$(KMAKE) modules

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
