#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
#
# dt-schema-report.py DTB JSON [QEMU_DTB]
#
# Sorts dt-validate's diagnostics (its --json-output) of one tree by the
# node they are about, and prints them. Run with the dt-schema venv's
# python (pylibfdt reads the trees).
#
# Ours: the nodes qda reads (every FastRPC node and its context banks, the
# reserved-memory regions its memory-region names, its remoteproc: the
# parent of its glink edge) and every node this project adds, i.e. every
# node that is not in QEMU_DTB, QEMU's own tree. Without QEMU_DTB (a board
# tree) every node counts as ours. Any diagnostic on ours, a failed
# validation or an unmatched compatible alike, is an error. QEMU's own
# nodes are listed as not ours: qda does not read them, and QEMU names them
# after the device (pl011@..., intc@...), not with the generic names the
# kernel's schemas require.
#
# Exit status 0 if there is no diagnostic on ours; the last line says
# "ours: N, qemu: M".
import json
import sys

import libfdt

FASTRPC = ("qcom,fastrpc", "qcom,kaanapali-fastrpc")


def nodes(fdt):
    """Path -> offset of every node of FDT."""
    out = {}
    todo = [0]
    while todo:
        off = todo.pop()
        out[fdt.get_path(off)] = off
        child = fdt.first_subnode(off, libfdt.QUIET_NOTFOUND)
        while child >= 0:
            todo.append(child)
            child = fdt.next_subnode(child, libfdt.QUIET_NOTFOUND)
    return out


def compatibles(fdt, off):
    prop = fdt.getprop(off, "compatible", libfdt.QUIET_NOTFOUND)
    if not isinstance(prop, libfdt.Property):
        return []
    return [c for c in bytes(prop).decode(errors="replace").split("\0") if c]


def parent(path):
    return path.rsplit("/", 1)[0] or "/"


def read_by_qda(fdt, all_nodes):
    """The paths of the nodes qda reads."""
    out = set()
    for path, off in all_nodes.items():
        if not any(c in FASTRPC for c in compatibles(fdt, off)):
            continue
        out.update(p for p in all_nodes if p == path or p.startswith(path + "/"))
        out.add(parent(parent(path)))
        prop = fdt.getprop(off, "memory-region", libfdt.QUIET_NOTFOUND)
        if isinstance(prop, libfdt.Property):
            raw = bytes(prop)
            for i in range(0, len(raw) - 3, 4):
                target = fdt.node_offset_by_phandle(int.from_bytes(raw[i:i + 4], "big"),
                                                   libfdt.QUIET_NOTFOUND)
                if target >= 0:
                    out.add(fdt.get_path(target))
    return out


def subject(diag, all_nodes):
    """The deepest node a diagnostic is about: its node, followed down its
    property path while that names child nodes (a schema of a parent
    reports on its children as parent:child:property)."""
    path = diag.get("node") or "/"
    for part in diag.get("property_path") or []:
        if not isinstance(part, str):
            break
        child = (path.rstrip("/") + "/" + part)
        if child not in all_nodes:
            break
        path = child
    return path


def main():
    dtb, report = sys.argv[1], sys.argv[2]
    fdt = libfdt.Fdt(open(dtb, "rb").read())
    all_nodes = nodes(fdt)
    qemu = set()
    if len(sys.argv) > 3:
        qemu = set(nodes(libfdt.Fdt(open(sys.argv[3], "rb").read())))
    read = read_by_qda(fdt, all_nodes)
    diags = json.load(open(report))
    ours, theirs = [], []
    for d in diags:
        path = subject(d, all_nodes)
        text = d.get("formatted") or d.get("message", "?")
        line = "%s: %s" % (path, text.split("\n")[0].split(": ", 1)[-1])
        if path in read or path not in qemu:
            ours.append(line)
        else:
            theirs.append(line)
    fastrpc = sum(1 for p in read if any(c in FASTRPC for c in compatibles(fdt, all_nodes[p])))
    print("    FastRPC nodes: %d; nodes qda reads: %d; nodes of QEMU's own tree: %d"
          % (fastrpc, len(read), len(qemu & set(all_nodes))))
    for line in ours:
        print("    ours: " + line)
    for line in theirs:
        print("    not ours (QEMU's node): " + line)
    print("ours: %d, qemu: %d" % (len(ours), len(theirs)))
    return 1 if ours else 0


if __name__ == "__main__":
    sys.exit(main())
