#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""report.py CONSOLE...: the SoC table of the corpus run (reStructuredText)
from the guest consoles of `qda_mode=corpus` boots: per SoC its board,
its FastRPC nodes and each node's KTAP result."""

import re
import sys

socs, results = [], {}
for path in sys.argv[1:]:
    for line in open(path, errors="replace"):
        line = line.rstrip("\r\n")
        m = re.match(r"qda-corpus: soc (\S+) board (\S+) nodes (\S+)", line)
        if m:
            socs.append(m.groups())
        m = re.match(r"^(?:\[[ 0-9.]+\] )?\s+(not ok|ok) \d+ (\S+)$", line)
        if m:
            results[m.group(2)] = "pass" if m.group(1) == "ok" else "FAIL"
rows = []
for soc, board, nodes in socs:
    cells = ", ".join("%s (%s)" % (n, results.get("%s_%s" % (soc, n), "not run"))
                      for n in nodes.split(","))
    rows.append((soc, board, cells))
w = [max(len(r[i]) for r in rows + [("SoC", "board", "FastRPC nodes (result)")])
     for i in range(3)]
sep = "  ".join("=" * x for x in w)
print(sep)
print("  ".join(h.ljust(x) for h, x in zip(("SoC", "board", "FastRPC nodes (result)"), w)))
print(sep)
for r in rows:
    print("  ".join(c.ljust(x) for c, x in zip(r, w)).rstrip())
print(sep)
n = sum(len(r[2].split(", ")) for r in rows)
ok = sum(c.count("(pass)") for r in rows for c in [r[2]])
print()
print("%d SoCs, %d FastRPC nodes, %d pass." % (len(rows), n, ok))
