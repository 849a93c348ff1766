#!/usr/bin/env python3
"""gguf_compare.py A.gguf B.gguf - whether two GGUF files hold the same
metadata (every key with the same type and value, in any order) and the same
tensors (name, type, shape and bytes). Prints each difference; exit 0 when
there is none, 1 otherwise. Standard library only."""
import struct
import sys

SCALAR = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
BLOCK = {0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24), 8: (32, 34), 10: (256, 84),
         11: (256, 110), 12: (256, 144), 13: (256, 176), 14: (256, 210), 30: (1, 2)}


class Reader:
    def __init__(self, buf):
        self.buf, self.pos = buf, 0

    def take(self, n):
        b = self.buf[self.pos:self.pos + n]
        if len(b) != n:
            raise ValueError("truncated")
        self.pos += n
        return b

    def u32(self):
        return struct.unpack("<I", self.take(4))[0]

    def u64(self):
        return struct.unpack("<Q", self.take(8))[0]

    def string(self):
        return self.take(self.u64())

    def value(self, t):
        if t == 8:
            return self.string()
        if t == 9:
            et, n = self.u32(), self.u64()
            return (et, tuple(self.value(et) for _ in range(n)))
        return struct.unpack(SCALAR[t], self.take(struct.calcsize(SCALAR[t])))[0]


def read(path):
    with open(path, "rb") as f:
        r = Reader(f.read())
    if r.take(4) != b"GGUF":
        raise SystemExit(f"{path}: not a GGUF file")
    r.u32()
    n_tensors, n_kv = r.u64(), r.u64()
    kv = {}
    for _ in range(n_kv):
        key = r.string().decode()
        t = r.u32()
        kv[key] = (t, r.value(t))
    infos = []
    for _ in range(n_tensors):
        name = r.string().decode()
        nd = r.u32()
        dims = tuple(r.u64() for _ in range(nd))
        infos.append((name, dims, r.u32(), r.u64()))
    align = kv.get("general.alignment", (4, 32))[1]
    base = (r.pos + align - 1) // align * align
    tensors = {}
    for name, dims, t, off in infos:
        n = 1
        for d in dims:
            n *= d
        be, bb = BLOCK.get(t, (0, 0))
        size = n // be * bb if be else 0
        tensors[name] = (t, dims, r.buf[base + off:base + off + size])
    return kv, tensors


def main():
    a_kv, a_t = read(sys.argv[1])
    b_kv, b_t = read(sys.argv[2])
    diffs = 0
    for k in sorted(set(a_kv) | set(b_kv)):
        if a_kv.get(k) != b_kv.get(k):
            print(f"key {k}: {'differs' if k in a_kv and k in b_kv else 'only in one file'}")
            diffs += 1
    for n in sorted(set(a_t) | set(b_t)):
        if a_t.get(n) != b_t.get(n):
            print(f"tensor {n}: {'differs' if n in a_t and n in b_t else 'only in one file'}")
            diffs += 1
    print(f"{diffs} difference(s) between {sys.argv[1]} and {sys.argv[2]}")
    sys.exit(1 if diffs else 0)


if __name__ == "__main__":
    main()
