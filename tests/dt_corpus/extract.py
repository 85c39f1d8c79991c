#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The device-tree corpus: every FastRPC node of Linux 7.3's arm64 qcom
device trees, rewritten for QEMU's virt machine.

extract.py KSRC CACHE OUTDIR
extract.py --verify KSRC CACHE OUTDIR/batch-N.socs BOOTED.dtb

Compiles one real board DTB per SoC (BOARDS) with the kernel's own build
(`make O=CACHE/... qcom/<board>.dtb`, cached by kernel version), takes
every `qcom,fastrpc` / `qcom,kaanapali-fastrpc` node with its context
banks, the reserved-memory regions it names, its glink/smd edge and its
remoteproc, and writes OUTDIR/batch-<n>.dtsi fragments that
scripts/make-dtb.sh applies on QEMU's tree instead of dts/qda-virt.dtsi
(QDA_DT_BASE), plus OUTDIR/manifest.txt (one line per node).

Only what QEMU cannot provide is rewritten (README.md in this folder
lists every rule and its reason, REWRITES below is the same list in
code); everything else is copied byte for byte.
"""

import hashlib
import os
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fdt  # noqa: E402

# One real board per SoC dtsi with FastRPC nodes (the 27 SoCs).
BOARDS = [
    ("agatti", "qrb2210-rb1"),
    ("glymur", "glymur-crd"),
    ("hamoa", "x1e001de-devkit"),
    ("kaanapali", "kaanapali-mtp"),
    ("kodiak", "qcm6490-idp"),
    ("lemans", "lemans-evk"),
    ("milos", "milos-fairphone-fp6"),
    ("monaco", "monaco-evk"),
    ("msm8916", "apq8016-sbc"),
    ("msm8996", "apq8096-db820c"),
    ("sar2130p", "sar2130p-qar2130p"),
    ("sc7180", "sc7180-idp"),
    ("sc8280xp", "sc8280xp-crd"),
    ("sdm630", "sdm630-sony-xperia-nile-discovery"),
    ("sdm660", "sdm660-xiaomi-lavender"),
    ("sdm845", "sdm845-db845c"),
    ("shikra", "shikra-cqm-evk"),
    ("sm6115", "sm6115-fxtec-pro1x"),
    ("sm6350", "sm6350-sony-xperia-lena-pdx213"),
    ("sm8150", "sm8150-hdk"),
    ("sm8250", "qrb5165-rb5"),
    ("sm8350", "sm8350-hdk"),
    ("sm8450", "sm8450-hdk"),
    ("sm8550", "sm8550-hdk"),
    ("sm8650", "sm8650-hdk"),
    ("sm8750", "sm8750-mtp"),
    ("talos", "qcs615-ride"),
]

FASTRPC = ("qcom,fastrpc", "qcom,kaanapali-fastrpc")

# Properties dropped because they point at hardware QEMU's virt machine
# does not have (or, for the remoteproc, the firmware loader's, which the
# simulated DSP replaces). Any property not classified fails the run.
REMOTEPROC_DROP = {
    "reg", "reg-names", "interrupts", "interrupts-extended", "interrupt-names",
    "clocks", "clock-names", "power-domains", "power-domain-names",
    "qcom,smem-states", "qcom,smem-state-names", "qcom,qmp", "interconnects",
    "resets", "reset-names", "qcom,halt-regs", "memory-region",
    "cx-supply", "mx-supply", "pll-supply", "mss-supply", "qcom,ext-regs",
    "qcom,spare-regs", "qcom,ipc", "status",
}
REMOTEPROC_KEEP = {"firmware-name", "label"}
EDGE_DROP = {"interrupts", "interrupts-extended", "mboxes", "qcom,ipc"}
EDGE_KEEP = {"label", "qcom,remote-pid", "qcom,smd-edge", "qcom,glink-channels"}
FASTRPC_KEEP = {
    "compatible", "label", "#address-cells", "#size-cells", "qcom,glink-channels",
    "qcom,smd-channels", "qcom,non-secure-domain", "qcom,vmids", "memory-region",
    "memory-region-names", "dma-coherent", "phandle",
}
CB_KEEP = {"compatible", "reg", "iommus", "dma-coherent", "qcom,nsessions", "phandle"}
REGION_KEEP = {"compatible", "reg", "size", "alignment", "alloc-ranges", "no-map",
               "reusable", "phandle"}

REWRITES = [
    ("iommus (context bank, remoteproc)", "<&qda_smmu N>, one stream ID of QEMU's "
     "SMMUv3 per node that had iommus (the SoC's SMMU and its stream IDs do not exist)"),
    ("reserved memory reg", "moved into the guest's RAM (0xa0000000 up), size kept"),
    ("reserved memory alloc-ranges", "the guest's RAM window 0x80000000+0x20000000"),
    ("remoteproc compatible", "qda,sim-remoteproc (qda_dsp_sim's stand-in for the PAS "
     "loader: binds it, so its iommus give it an IOMMU domain)"),
    ("remoteproc, edge: hardware properties", "dropped (interrupts, mailboxes, clocks, "
     "power domains, MMIO, SMEM states, interconnects, firmware regions)"),
    ("remoteproc children other than the FastRPC edge, edge children other than "
     "the FastRPC node", "dropped (other services: modem PD, APR/GPR audio)"),
    ("remoteproc status", "dropped: the simulator boots every DSP; a board that disables "
     "one never sees its channel, the corpus tests its FastRPC node as if enabled"),
    ("remoteproc location", "moved to the root, named corpus-<soc>-<name> (QEMU's tree "
     "has no /soc@0 bus; the driver reads nothing of the path)"),
    ("qda,corpus-group, qda,corpus-soc, qda,corpus-board, qda,corpus-run", "added to the "
     "remoteproc: which SoC and board a node came from and which run uses it "
     "(qda_dsp_sim's corpus_group parameter selects one group per load)"),
    ("qcom,vmids in the upstream copy", "removed: fastrpc.ko returns -EPROBE_DEFER for "
     "a node with qcom,vmids while SCM is unavailable (QEMU has no SCM); the copy is "
     "only bound to fastrpc.ko, the qda run uses the node as it is"),
]

# Reusable regions are CMA areas (CONFIG_CMA_AREAS=8 in the test kernel,
# one taken by the default area): at most this many per boot.
CMA_PER_BATCH = 6
RAM_NOMAP_BASE = 0xA000_0000
RAM_NOMAP_END = 0xC000_0000
ALLOC_RANGES = (0x8000_0000, 0x2000_0000)
SID_BASE = 0x4000


def cache_key(ksrc):
    """Key of the compiled DTBs: the kernel tree and the board list."""
    h = hashlib.sha256()
    h.update(os.path.basename(os.path.realpath(ksrc)).encode())
    for soc, board in BOARDS:
        h.update(("%s %s\n" % (soc, board)).encode())
    for soc, board in BOARDS:
        p = os.path.join(ksrc, "arch/arm64/boot/dts/qcom", board + ".dts")
        h.update(str(os.stat(p).st_mtime_ns).encode())
    return h.hexdigest()[:16]


def build_dtbs(ksrc, cache):
    """Compiles the boards with the kernel's build; returns their folder."""
    odir = os.path.join(cache, "dt-corpus-" + cache_key(ksrc))
    dtbdir = os.path.join(odir, "arch/arm64/boot/dts/qcom")
    if all(os.path.exists(os.path.join(dtbdir, b + ".dtb")) for _, b in BOARDS):
        return dtbdir
    make = ["make", "-s", "-C", ksrc, "O=" + odir, "ARCH=arm64", "LLVM=-19"]
    if not os.path.exists(os.path.join(odir, ".config")):
        subprocess.run(make + ["allnoconfig"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(make + ["qcom/%s.dtb" % b for _, b in BOARDS], check=True,
                   stdout=subprocess.DEVNULL)
    return dtbdir


def cells_of(node, name, default):
    v = node.props.get(name)
    return struct.unpack(">I", v)[0] if v and len(v) == 4 else default


def num(cells):
    v = 0
    for c in cells:
        v = (v << 32) | c
    return v


def render(value):
    """A property value as DTS, the same bytes: strings, cells or bytes."""
    if not value:
        return None
    if value.endswith(b"\0") and all(
            32 <= b < 127 or b == 0 for b in value) and b"\0\0" not in value \
            and not value.startswith(b"\0"):
        parts = value[:-1].split(b"\0")
        return ", ".join('"%s"' % p.decode().replace('"', '\\"') for p in parts)
    if len(value) % 4 == 0:
        words = struct.unpack(">%dI" % (len(value) // 4), value)
        return "<" + " ".join("0x%x" % w for w in words) + ">"
    return "[" + " ".join("%02x" % b for b in value) + "]"


def prop_line(indent, name, value):
    r = render(value)
    return "%s%s;" % (indent, name) if r is None else "%s%s = %s;" % (indent, name, r)


def check_props(node, keep, drop, what):
    unknown = set(node.props) - keep - drop
    if unknown:
        raise SystemExit("%s %s: unclassified properties %s (add them to the keep or "
                         "drop list of tests/dt_corpus/extract.py)" %
                         (what, node.path(), sorted(unknown)))


class Soc:
    def __init__(self, index, soc, board, root, phandles):
        self.index, self.soc, self.board = index, soc, board
        self.root, self.phandles = root, phandles
        self.nodes = [n for n in root.walk()
                      if any(c in FASTRPC for c in n.strings("compatible"))]
        self.regions = []  # (node) in first-use order
        for n in self.nodes:
            for p in n.cells("memory-region"):
                r = phandles[p]
                if r not in self.regions:
                    self.regions.append(r)
        self.has_vmids = any("qcom,vmids" in n.props for n in self.nodes)

    def cma(self):
        return sum("reusable" in r.props for r in self.regions)


class Writer:
    def __init__(self):
        self.sid = SID_BASE
        self.nomap = RAM_NOMAP_BASE
        self.manifest = []

    def next_sid(self):
        s = self.sid
        self.sid += 1
        return s

    def region(self, soc, r, out):
        label = "corpus_%s_mem%d" % (soc.soc, soc.regions.index(r))
        check_props(r, REGION_KEEP, set(), "region")
        ac = cells_of(r.parent, "#address-cells", 2)
        sc = cells_of(r.parent, "#size-cells", 1)
        name = r.name.split("@")[0]
        lines = []
        for k, v in r.props.items():
            if k == "phandle":
                continue
            if k == "reg":
                c = struct.unpack(">%dI" % (len(v) // 4), v)
                size = num(c[ac:ac + sc])
                align = 0x40_0000
                base = (self.nomap + align - 1) // align * align
                if base + size > RAM_NOMAP_END:
                    raise SystemExit("reserved memory past the guest's RAM")
                self.nomap = base + size
                name = "%s@%x" % (name, base)
                lines.append("\t\t\treg = <0x%x 0x%x 0x%x 0x%x>;" %
                             (base >> 32, base & 0xFFFFFFFF, size >> 32, size & 0xFFFFFFFF))
            elif k in ("size", "alignment"):
                x = num(struct.unpack(">%dI" % (len(v) // 4), v))
                lines.append("\t\t\t%s = <0x%x 0x%x>;" % (k, x >> 32, x & 0xFFFFFFFF))
            elif k == "alloc-ranges":
                b, s = ALLOC_RANGES
                lines.append("\t\t\talloc-ranges = <0x0 0x%x 0x0 0x%x>;" % (b, s))
            else:
                lines.append(prop_line("\t\t\t", k, v))
        out.append("\t\t%s: corpus-%s-%s {" % (label, soc.soc, name))
        out += lines
        out.append("\t\t};")
        return label

    def fastrpc(self, soc, n, indent, run, out):
        check_props(n, FASTRPC_KEEP, set(), "FastRPC node")
        out.append("%s%s {" % (indent, n.name))
        for k, v in n.props.items():
            if k == "phandle":
                continue
            if k == "memory-region":
                labels = ["&corpus_%s_mem%d" % (soc.soc, soc.regions.index(soc.phandles[p]))
                          for p in n.cells(k)]
                out.append("%s\tmemory-region = %s;" %
                           (indent, ", ".join("<%s>" % l for l in labels)))
            elif k == "qcom,vmids" and run == "upstream":
                continue
            else:
                out.append(prop_line(indent + "\t", k, v))
        sids = []
        for cb in n.children:
            check_props(cb, CB_KEEP, set(), "context bank")
            out.append("%s\t%s {" % (indent, cb.name))
            for k, v in cb.props.items():
                if k == "phandle":
                    continue
                if k == "iommus":
                    s = self.next_sid()
                    sids.append(s)
                    out.append("%s\t\tiommus = <&qda_smmu 0x%x>;" % (indent, s))
                else:
                    out.append(prop_line(indent + "\t\t", k, v))
            out.append("%s\t};" % indent)
        out.append("%s};" % indent)
        return sids

    def soc(self, soc, run, group, out):
        seen = []
        for n in soc.nodes:
            edge, rproc = n.parent, n.parent.parent
            if rproc in seen:
                raise SystemExit("%s: two FastRPC nodes under one remoteproc" % rproc.path())
            seen.append(rproc)
            check_props(rproc, REMOTEPROC_KEEP, REMOTEPROC_DROP | {"compatible", "iommus"},
                        "remoteproc")
            check_props(edge, EDGE_KEEP, EDGE_DROP, "edge")
            name = rproc.name.replace("@", "-")
            out.append("\tcorpus-%s-%s%s {" % (soc.soc, name, "-upstream" if run == "upstream" else ""))
            out.append('\t\tcompatible = "qda,sim-remoteproc";')
            for k, v in rproc.props.items():
                if k in REMOTEPROC_KEEP:
                    out.append(prop_line("\t\t", k, v))
            if "iommus" in rproc.props:
                out.append("\t\tiommus = <&qda_smmu 0x%x>;" % self.next_sid())
            out.append("\t\tqda,corpus-group = <%d>;" % group)
            out.append('\t\tqda,corpus-soc = "%s";' % soc.soc)
            out.append('\t\tqda,corpus-board = "%s";' % soc.board)
            out.append('\t\tqda,corpus-run = "%s";' % run)
            out.append("")
            out.append("\t\t%s {" % edge.name)
            for k, v in edge.props.items():
                if k in EDGE_KEEP:
                    out.append(prop_line("\t\t\t", k, v))
            out.append("")
            self.fastrpc(soc, n, "\t\t\t", run, out)
            out.append("\t\t};")
            out.append("\t};")
            out.append("")
            if run == "qda":
                self.manifest.append("%s\t%s\t%s\t%s\t%s" % (
                    soc.soc, soc.board, n.strings("label")[0], n.path(),
                    "rproc-iommus" if "iommus" in rproc.props else "-"))


def num_prop(node, name, cells_name, default):
    """Property `name` of a reserved-memory node as numbers (cells of
    its parent's `cells_name`)."""
    v = node.props.get(name)
    if v is None:
        return None
    c = struct.unpack(">%dI" % (len(v) // 4), v)
    n = cells_of(node.parent, cells_name, default)
    return [num(c[i:i + n]) for i in range(0, len(c), n)]


def verify(soc, booted, bph, errs):
    """Appends to `errs` every way the nodes of `soc` in the booted tree
    differ from the board's tree beyond the declared rewrites."""
    for n in soc.nodes:
        edge, rproc = n.parent, n.parent.parent
        for run in ("qda", "upstream") if soc.has_vmids else ("qda",):
            tail = "-upstream" if run == "upstream" else ""
            rpath = "/corpus-%s-%s%s" % (soc.soc, rproc.name.replace("@", "-"), tail)
            found = {x.path(): x for x in booted.walk()}
            where = "%s%s" % (n.path(), " (copy)" if tail else "")
            r2 = found.get(rpath)
            e2 = found.get("%s/%s" % (rpath, edge.name))
            f2 = found.get("%s/%s/%s" % (rpath, edge.name, n.name))
            if not (r2 and e2 and f2):
                errs.append("%s: not in the booted tree" % where)
                continue
            if r2.strings("compatible") != ["qda,sim-remoteproc"]:
                errs.append("%s: remoteproc compatible %s" % (where, r2.strings("compatible")))
            if ("iommus" in rproc.props) != ("iommus" in r2.props):
                errs.append("%s: remoteproc iommus added or lost" % where)
            for src, dst, keep in ((rproc, r2, REMOTEPROC_KEEP), (edge, e2, EDGE_KEEP)):
                for k in keep:
                    if src.props.get(k) != dst.props.get(k):
                        errs.append("%s: %s %s differs" % (where, dst.path(), k))
            want = {k: v for k, v in n.props.items() if k not in ("phandle", "memory-region")}
            if run == "upstream":
                want.pop("qcom,vmids", None)
            got = {k: v for k, v in f2.props.items() if k not in ("phandle", "memory-region")}
            if want != got:
                errs.append("%s: properties differ: %s" % (where, sorted(
                    k for k in set(want) | set(got) if want.get(k) != got.get(k))))
            src_regions = [soc.phandles[p] for p in n.cells("memory-region")]
            dst_regions = [bph.get(p) for p in f2.cells("memory-region")]
            if len(src_regions) != len(dst_regions) or None in dst_regions:
                errs.append("%s: memory-region entries differ" % where)
            else:
                for a, b in zip(src_regions, dst_regions):
                    for k in ("compatible", "no-map", "reusable"):
                        if a.props.get(k) != b.props.get(k):
                            errs.append("%s: region %s %s differs" % (where, b.path(), k))
                    for k, cn, d in (("size", "#size-cells", 1), ("alignment", "#size-cells", 1)):
                        if num_prop(a, k, cn, d) != num_prop(b, k, cn, d):
                            errs.append("%s: region %s %s differs" % (where, b.path(), k))
                    ra = num_prop(a, "reg", "#size-cells", 1)
                    if ra is not None:
                        ac = cells_of(a.parent, "#address-cells", 2)
                        sc = cells_of(a.parent, "#size-cells", 1)
                        bc = cells_of(b.parent, "#address-cells", 2)
                        bs = cells_of(b.parent, "#size-cells", 1)
                        va = struct.unpack(">%dI" % (len(a.props["reg"]) // 4), a.props["reg"])
                        vb = struct.unpack(">%dI" % (len(b.props["reg"]) // 4), b.props["reg"])
                        if num(va[ac:ac + sc]) != num(vb[bc:bc + bs]):
                            errs.append("%s: region %s size differs" % (where, b.path()))
            if [c.name for c in n.children] != [c.name for c in f2.children]:
                errs.append("%s: context banks differ" % where)
                continue
            for a, b in zip(n.children, f2.children):
                pa = {k: v for k, v in a.props.items() if k not in ("phandle", "iommus")}
                pb = {k: v for k, v in b.props.items() if k not in ("phandle", "iommus")}
                if pa != pb or ("iommus" in a.props) != ("iommus" in b.props):
                    errs.append("%s: %s differs" % (where, b.path()))
            streams = [b.props["iommus"] for b in f2.children if "iommus" in b.props]
            if len(set(streams)) != len(streams):
                errs.append("%s: context banks share a stream" % where)


def load_socs(dtbdir):
    socs = []
    for i, (soc, board) in enumerate(BOARDS):
        root, ph = fdt.parse(open(os.path.join(dtbdir, board + ".dtb"), "rb").read())
        s = Soc(i + 1, soc, board, root, ph)
        if not s.nodes:
            raise SystemExit("%s (%s): no FastRPC node" % (soc, board))
        socs.append(s)
    return socs


def verify_main(ksrc, cache, socs_file, booted_dtb):
    """--verify: the booted tree of one batch against the board trees."""
    socs = {s.soc: s for s in load_socs(build_dtbs(ksrc, cache))}
    booted, bph = fdt.parse(open(booted_dtb, "rb").read())
    errs = []
    names = [l.split()[1] for l in open(socs_file) if l.strip()]
    for name in names:
        verify(socs[name], booted, bph, errs)
    for e in errs:
        print(e)
    print("%d SoCs of %s: %s" % (len(names), os.path.basename(booted_dtb),
                                 "%d differences beyond the rewrites" % len(errs)
                                 if errs else "every kept property byte for byte"))
    return 1 if errs else 0


def main():
    if sys.argv[1] == "--verify":
        sys.exit(verify_main(*sys.argv[2:6]))
    ksrc, cache, outdir = sys.argv[1:4]
    dtbdir = build_dtbs(ksrc, cache)
    socs = load_socs(dtbdir)
    batches, cur, cma = [], [], 0
    for s in socs:
        if cur and cma + s.cma() > CMA_PER_BATCH:
            batches.append(cur)
            cur, cma = [], 0
        cur.append(s)
        cma += s.cma()
    batches.append(cur)
    os.makedirs(outdir, exist_ok=True)
    w = Writer()
    for bi, batch in enumerate(batches):
        w.nomap = RAM_NOMAP_BASE
        out = ["// SPDX-License-Identifier: (GPL-2.0 OR MIT)",
               "// Generated by tests/dt_corpus/extract.py from Linux's",
               "// arch/arm64/boot/dts/qcom (%s): do not edit." % os.path.basename(
                   os.path.realpath(ksrc)),
               "// Rewrites (tests/dt_corpus/README.md):"]
        out += ["//  - %s: %s" % r for r in REWRITES]
        out += ["/ {", "\treserved-memory {", "\t\t#address-cells = <2>;",
                "\t\t#size-cells = <2>;", "\t\tranges;", ""]
        body = []
        for s in batch:
            for r in s.regions:
                w.region(s, r, out)
            w.soc(s, "qda", s.index, body)
            if s.has_vmids:
                w.soc(s, "upstream", 100 + s.index, body)
        out.append("\t};")
        out.append("")
        out += body
        out.append("};")
        with open(os.path.join(outdir, "batch-%d.dtsi" % bi), "w") as f:
            f.write("\n".join(out) + "\n")
        with open(os.path.join(outdir, "batch-%d.socs" % bi), "w") as f:
            f.write("".join("%d %s %s %d\n" % (s.index, s.soc, s.board,
                                               100 + s.index if s.has_vmids else s.index)
                            for s in batch))
    with open(os.path.join(outdir, "manifest.txt"), "w") as f:
        f.write("".join(l + "\n" for l in w.manifest))
    print("%d SoCs, %d FastRPC nodes, %d batches" % (len(socs), len(w.manifest),
                                                     len(batches)))


if __name__ == "__main__":
    main()
