#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Checks qda's layering (Documentation/accel/qda/layers.rst).

Every path a file of src/ names inside the crate (`crate::`, `super::`,
`$crate::`) is resolved to the top-level folder it lands in; a folder may
only name folders below it. Also: no UAPI type below the frontends, no
`unsafe` outside src/ffi, no function longer than 60 lines.
Prints one line per violation and exits non-zero if there is any.
"""
import os
import re
import sys

# Top-level modules from top to bottom; a module may use only modules
# strictly below it (or its own folder). Same rank: must not use each other.
RANKS = {
    "qda_main": 0, "driver": 0, "debugfs": 0,
    "accel": 1, "legacy": 1,
    "dsp": 2,
    "fastrpc": 3,
    "buffer": 4,
    "memory": 5,
    "platform": 6,
    "ratelimit": 7,
    "ffi": 8,
}
# Items of the crate root every layer may read: the module parameters.
ROOT_ITEMS = {"module_parameters", "rpmsg_module_aliases", "THIS_MODULE"}
# UAPI names: the accel UAPI (`uapi::`, `drm_qda_*`, `QDA_*`) and the
# legacy one (`fastrpc_*` structs of include/uapi/misc/fastrpc.h).
UAPI = re.compile(r"\b(drm_qda_\w+|DRM_IOCTL_QDA_\w+|QDA_MEM_\w+|QDA_MAP_\w+|fastrpc_(invoke|init_create|req_mmap|req_munmap|mem_map|mem_unmap|alloc_dma_buf|ioctl_\w+)\b|accel::uapi|legacy::uapi)")
MAX_FN = 60


def strip_comments(s):
    s = re.sub(r"//[^\n]*", "", s)
    return re.sub(r'"(\\.|[^"\\])*"', '""', s)


def module_of(rel):
    parts = rel[:-3].split("/")
    if parts[-1] == "mod":
        parts = parts[:-1]
    return parts


def tree_paths(s):
    """Every path of a `use` tree or expression starting at crate/super."""
    out = []
    for m in re.finditer(r"\b(\$?crate|super)((?:::\w+)*)(::\{)?", s):
        head = [m.group(1).lstrip("$")] + [p for p in m.group(2).split("::") if p]
        if m.group(3):
            # first segment inside the braces, for each top-level item
            i = m.end()
            depth, cur, items = 1, "", []
            while i < len(s) and depth:
                c = s[i]
                depth += c == "{"
                depth -= c == "}"
                if depth == 1 and c == ",":
                    items.append(cur)
                    cur = ""
                elif depth >= 1 and not (depth == 1 and c == "}"):
                    cur += c
                i += 1
            items.append(cur)
            for it in items:
                seg = re.match(r"\s*(\w+)", it)
                if seg and seg.group(1) != "self":
                    out.append(head + [seg.group(1)])
                elif seg:
                    out.append(head)
        else:
            out.append(head)
    return out


def resolve(mod, path):
    if path[0] == "crate":
        return path[1:]
    base = list(mod)
    while path and path[0] == "super":
        base = base[:-1]
        path = path[1:]
    return base + path


def main(root):
    bad = []
    for d, _, files in os.walk(os.path.join(root, "src")):
        for f in sorted(files):
            if not f.endswith(".rs") or f == "bindings_generated.rs":
                continue
            p = os.path.join(d, f)
            rel = os.path.relpath(p, os.path.join(root, "src"))
            mod = module_of(rel)
            top = mod[0]
            text = open(p).read()
            code = strip_comments(text)
            rank = RANKS.get(top)
            if rank is None:
                bad.append(f"{rel}: top-level module `{top}` has no layer")
                continue
            for path in tree_paths(code):
                target = resolve(mod, path)
                if not target or target[0] in ROOT_ITEMS or target[0] == top:
                    continue
                t = RANKS.get(target[0])
                if t is None:
                    continue
                if t <= rank and rank > 0:
                    bad.append(f"{rel}: `{top}` uses `{'::'.join(target)}` (layer {target[0]} is not below {top})")
            if rank >= 2 and top != "ffi" and UAPI.search(code):
                bad.append(f"{rel}: UAPI name below the frontends: {UAPI.search(code).group(0)}")
            if top != "ffi" and re.search(r"\bunsafe\b", code):
                bad.append(f"{rel}: `unsafe` outside src/ffi")
            bad += long_fns(rel, text.split("\n"))
    for b in sorted(set(bad)):
        print(b)
    return 1 if bad else 0


def long_fns(rel, lines):
    out = []
    i = 0
    fn = re.compile(r"^(\s*)(pub(\([^)]*\))?\s+)?(const\s+)?(unsafe\s+)?(extern \"C\"\s+)?fn\s+(\w+)")
    while i < len(lines):
        m = fn.match(lines[i])
        if not m:
            i += 1
            continue
        ind, start, j = len(m.group(1)), i, i
        while j < len(lines) and "{" not in lines[j] and not lines[j].rstrip().endswith(";"):
            j += 1
        if j < len(lines) and "{" not in lines[j]:
            i = j + 1
            continue
        k = j + 1
        while k < len(lines) and not re.match(r"^\s{%d}\}" % ind, lines[k]):
            k += 1
        if k - start + 1 > MAX_FN:
            out.append(f"{rel}:{start + 1}: fn {m.group(7)} is {k - start + 1} lines (at most {MAX_FN})")
        i = k + 1
    return out


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "."))
