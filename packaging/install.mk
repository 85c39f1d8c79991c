# SPDX-License-Identifier: GPL-2.0
#
# Install targets for qda, included from the top Makefile.
#   make install        modules_install, then install-files
#   make install-files  the udev rules, modprobe.d and sysusers.d files of
#                       packaging/ and the qdactl CLI, under $(DESTDIR)
# The directories are the distributions' package locations (/usr/lib/...);
# override them for another layout, e.g. UDEVRULESDIR=/etc/udev/rules.d.
# See Documentation/accel/qda/install.rst.

UDEVRULESDIR ?= /usr/lib/udev/rules.d
MODPROBEDIR ?= /usr/lib/modprobe.d
SYSUSERSDIR ?= /usr/lib/sysusers.d
BINDIR ?= /usr/bin
QDACTL ?= userspace/target/aarch64-unknown-linux-gnu/release/qdactl

.PHONY: install install-files

install: modules_install install-files

install-files:
	@test -x $(QDACTL) || { echo "qda: $(QDACTL) is not built;" \
		"build it with 'bash scripts/build-guest.sh' (static arm64)" \
		"or set QDACTL=<path to an arm64 qdactl>" >&2; exit 1; }
	install -D -m 0644 packaging/udev/60-qda.rules $(DESTDIR)$(UDEVRULESDIR)/60-qda.rules
	install -D -m 0644 packaging/modprobe.d/qda.conf $(DESTDIR)$(MODPROBEDIR)/qda.conf
	install -D -m 0644 packaging/sysusers.d/qda.conf $(DESTDIR)$(SYSUSERSDIR)/qda.conf
	install -D -m 0755 $(QDACTL) $(DESTDIR)$(BINDIR)/qdactl
