# SPDX-License-Identifier: GPL-2.0
"""A flattened device tree (DTB) reader: the tree of nodes and raw
property bytes, and the node of each phandle. Python 3 stdlib only."""

import struct

FDT_MAGIC = 0xD00DFEED
BEGIN_NODE, END_NODE, PROP, NOP, END = 1, 2, 3, 4, 9


class Node:
    """One node: its name, properties in order (name -> bytes), children."""

    def __init__(self, name, parent):
        self.name = name
        self.parent = parent
        self.props = {}
        self.children = []

    def path(self):
        if self.parent is None:
            return "/"
        up = self.parent.path()
        return (up if up.endswith("/") else up + "/") + self.name

    def strings(self, prop):
        """A string-list property as a list of str (empty if absent)."""
        v = self.props.get(prop)
        if v is None:
            return []
        return [s.decode() for s in v.rstrip(b"\0").split(b"\0")]

    def cells(self, prop):
        v = self.props.get(prop, b"")
        return list(struct.unpack(">%dI" % (len(v) // 4), v[: len(v) // 4 * 4]))

    def walk(self):
        yield self
        for c in self.children:
            yield from c.walk()


def _cstr(buf, off):
    end = buf.index(b"\0", off)
    return buf[off:end].decode(), end + 1


def parse(blob):
    """The root Node of DTB bytes `blob`, and {phandle: Node}."""
    (magic, total, off_struct, off_strings, _rsv, version, _last, _cpu,
     size_strings, size_struct) = struct.unpack(">10I", blob[:40])
    if magic != FDT_MAGIC or total > len(blob) or version < 17:
        raise ValueError("not a version 17 DTB")
    strings = blob[off_strings:off_strings + size_strings]
    pos, end = off_struct, off_struct + size_struct
    root = cur = None
    while pos < end:
        (tok,) = struct.unpack(">I", blob[pos:pos + 4])
        pos += 4
        if tok == BEGIN_NODE:
            name, nxt = _cstr(blob, pos)
            pos = (nxt + 3) & ~3
            node = Node(name, cur)
            if cur is None:
                root = node
            else:
                cur.children.append(node)
            cur = node
        elif tok == END_NODE:
            cur = cur.parent
        elif tok == PROP:
            length, nameoff = struct.unpack(">II", blob[pos:pos + 8])
            pos += 8
            name, _ = _cstr(strings, nameoff)
            cur.props[name] = blob[pos:pos + length]
            pos = (pos + length + 3) & ~3
        elif tok == NOP:
            continue
        elif tok == END:
            break
        else:
            raise ValueError("bad DTB token %#x at %#x" % (tok, pos - 4))
    phandles = {}
    for n in root.walk():
        v = n.props.get("phandle") or n.props.get("linux,phandle")
        if v is not None and len(v) == 4:
            phandles[struct.unpack(">I", v)[0]] = n
    return root, phandles
