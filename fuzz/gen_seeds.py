#!/usr/bin/env python3
"""fuzz/gen_seeds.py - builds the fuzzers' seed corpora at run time.

    python3 fuzz/gen_seeds.py TESTDATA OUT_DIR

Writes OUT_DIR/<target>/ for each harness from the shared test data (never
committed: it is third-party) plus fuzz/seeds/<target>/ (small seeds written
for this project). Real files are shrunk so that each seed is a few KB to a
few hundred KB and the fuzzer spends its time in the parsers, not in
copying tensor data:
  gguf         every GGUF's metadata with at most a few small tensors kept
               (offsets recomputed), plus the vocab-only GGUFs as they are
  safetensors  each model.safetensors header with a few small tensors kept
  config       config.json / generation_config.json of the HF test models
  tokenizer_json  tokenizer.json files cut to their first few hundred tokens
               (merges and added tokens restricted to them), each also with
               its tokenizer_config.json after the split marker
  tokenizer_gguf  the GGUF seeds whose vocabularies are small (< 400 KB)
  tokenize     the llama.cpp tokenizer test inputs, one case per seed, with a
               selector byte in front
  jinja        the llama.cpp chat templates (+ a context JSON)
  request      nothing generated (fuzz/seeds/request holds the bodies)
"""
import glob
import json
import os
import shutil
import struct
import sys

SPLIT = b"\n#----\n"  # must match FUZZ_SPLIT in fuzz/fuzz_common.h


def write(out_dir, target, name, data):
    d = os.path.join(out_dir, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---- GGUF ---------------------------------------------------------------

GGUF_SCALAR = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
# bytes per block, elements per block for the types a seed may keep
GGML_BLOCK = {0: (4, 1), 1: (2, 1), 30: (2, 1), 8: (34, 32), 2: (18, 32), 3: (20, 32),
              6: (22, 32), 7: (24, 32), 10: (84, 256), 11: (110, 256), 12: (144, 256),
              13: (176, 256), 14: (210, 256)}


class Reader:
    def __init__(self, data):
        self.d, self.p = data, 0

    def take(self, n):
        b = self.d[self.p:self.p + n]
        if len(b) != n:
            raise ValueError("truncated")
        self.p += n
        return b

    def u32(self):
        return struct.unpack("<I", self.take(4))[0]

    def u64(self):
        return struct.unpack("<Q", self.take(8))[0]

    def string(self):
        return self.take(self.u64())


def skip_value(r, t):
    if t in GGUF_SCALAR:
        r.take(GGUF_SCALAR[t])
    elif t == 8:
        r.string()
    elif t == 9:
        et, n = r.u32(), r.u64()
        if et in GGUF_SCALAR:
            r.take(GGUF_SCALAR[et] * n)
        else:
            for _ in range(n):
                skip_value(r, et)
    else:
        raise ValueError("type %d" % t)


def shrink_gguf(data, max_tensors=3, max_tensor_bytes=4096):
    """The same metadata, only a few small tensors, offsets recomputed."""
    r = Reader(data)
    if r.take(4) != b"GGUF":
        return None
    version = r.u32()
    n_tensors, n_kv = r.u64(), r.u64()
    kv_start = r.p
    alignment = 32
    for _ in range(n_kv):
        key = r.string()
        t = r.u32()
        vpos = r.p
        skip_value(r, t)
        if key == b"general.alignment" and t == 4:
            alignment = struct.unpack("<I", data[vpos:vpos + 4])[0]
    kv_bytes = data[kv_start:r.p]
    tensors = []
    for _ in range(n_tensors):
        name = r.string()
        nd = r.u32()
        ne = [r.u64() for _ in range(nd)]
        typ = r.u32()
        off = r.u64()
        tensors.append((name, ne, typ, off))
    data_start = (r.p + alignment - 1) // alignment * alignment
    kept = []
    for name, ne, typ, off in tensors:
        if typ not in GGML_BLOCK:
            continue
        n = 1
        for e in ne:
            n *= e
        bs, be = GGML_BLOCK[typ]
        size = n // be * bs
        if size <= max_tensor_bytes and len(kept) < max_tensors:
            kept.append((name, ne, typ, data[data_start + off:data_start + off + size]))
    out = bytearray(b"GGUF" + struct.pack("<IQQ", version, len(kept), n_kv) + kv_bytes)
    off = 0
    offsets = []
    for name, ne, typ, blob in kept:
        offsets.append(off)
        off = (off + len(blob) + alignment - 1) // alignment * alignment
    for (name, ne, typ, blob), o in zip(kept, offsets):
        out += struct.pack("<Q", len(name)) + name + struct.pack("<I", len(ne))
        out += b"".join(struct.pack("<Q", e) for e in ne) + struct.pack("<IQ", typ, o)
    out += b"\0" * ((-len(out)) % alignment)
    base = len(out)
    for (name, ne, typ, blob), o in zip(kept, offsets):
        out += b"\0" * (base + o - len(out))
        out += blob
    return bytes(out)


def gguf_seeds(testdata, out):
    paths = sorted(glob.glob(os.path.join(testdata, "models", "*.gguf")) +
                   glob.glob(os.path.join(testdata, "models", "random", "*.gguf")))
    for p in paths:
        with open(p, "rb") as f:
            data = f.read()
        try:
            s = shrink_gguf(data)
        except ValueError:
            s = None
        if s and len(s) < 1 << 20:
            write(out, "gguf", os.path.basename(p), s)
    # the tokenizer loader's seeds: the GGUFs with small vocabularies
    os.makedirs(os.path.join(out, "tokenizer_gguf"), exist_ok=True)
    # (one per size: the quantized variants of one model share a vocabulary)
    sizes = set()
    for name in sorted(os.listdir(os.path.join(out, "gguf"))):
        p = os.path.join(out, "gguf", name)
        size = os.path.getsize(p)
        if size < 400 << 10 and size not in sizes:
            sizes.add(size)
            shutil.copy(p, os.path.join(out, "tokenizer_gguf", name))
    # vocab-only files: smallest few as they are (no tensors to shrink)
    vocabs = sorted(glob.glob(os.path.join(testdata, "vocab", "*.gguf")), key=os.path.getsize)[:1]
    for p in vocabs:
        shutil.copy(p, os.path.join(out, "gguf", os.path.basename(p)))


# ---- safetensors --------------------------------------------------------

ST_SIZE = {"F32": 4, "F16": 2, "BF16": 2, "U32": 4, "I32": 4, "U8": 1, "I8": 1, "F64": 8, "I64": 8,
           "U64": 8, "BOOL": 1, "U16": 2, "I16": 2}


def safetensors_seeds(testdata, out):
    for p in sorted(glob.glob(os.path.join(testdata, "models", "random", "*", "*.safetensors"))):
        with open(p, "rb") as f:
            n = struct.unpack("<Q", f.read(8))[0]
            header = json.loads(f.read(n))
        meta = header.pop("__metadata__", None)
        items = sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][1] - kv[1]["data_offsets"][0])
        new = {}
        if meta is not None:
            new["__metadata__"] = meta
        off = 0
        for name, t in items[:4]:
            size = t["data_offsets"][1] - t["data_offsets"][0]
            new[name] = {"dtype": t["dtype"], "shape": t["shape"], "data_offsets": [off, off + size]}
            off += size
        h = json.dumps(new).encode()
        h += b" " * ((-len(h)) % 8)
        dirname = os.path.basename(os.path.dirname(p))
        write(out, "safetensors", dirname + ".safetensors",
              struct.pack("<Q", len(h)) + h + bytes((i * 7) & 0xFF for i in range(off)))


# ---- config.json --------------------------------------------------------

def config_seeds(testdata, out):
    for p in sorted(glob.glob(os.path.join(testdata, "models", "random", "*", "*config.json"))):
        if os.path.basename(p) == "tokenizer_config.json":
            continue
        d = os.path.basename(os.path.dirname(p))
        shutil.copy(p, os.path.join(out, "config", d + "-" + os.path.basename(p)))


# ---- tokenizer.json -----------------------------------------------------

def cut_tokenizer(tj, keep):
    m = tj["model"]
    if isinstance(m.get("vocab"), dict):
        vocab = {k: v for k, v in m["vocab"].items() if v < keep}
        m["vocab"] = vocab
        if "merges" in m:
            merges = []
            for mg in m["merges"]:
                a, b = (mg.split(" ", 1) if isinstance(mg, str) else mg)
                if a in vocab and b in vocab and (a + b) in vocab:
                    merges.append(mg)
            m["merges"] = merges
    elif isinstance(m.get("vocab"), list):
        m["vocab"] = m["vocab"][:keep]
    ids = set(range(keep))
    tj["added_tokens"] = [t for t in tj.get("added_tokens", []) if t["id"] in ids][:32]
    return tj


def tokenizer_json_seeds(testdata, out):
    dirs = sorted(glob.glob(os.path.join(testdata, "models", "random", "*-hf-*")))
    dirs += [os.path.join(testdata, "tokenizers", d) for d in ("llama2", "llama3", "qwen3", "deepseek_v3")]
    for d in dirs:
        p = os.path.join(d, "tokenizer.json")
        if not os.path.exists(p):
            continue
        with open(p, "rb") as f:
            tj = json.load(f)
        small = json.dumps(cut_tokenizer(tj, 400), ensure_ascii=False).encode()
        name = os.path.basename(d)
        write(out, "tokenizer_json", name + ".json", small)
        cfg = os.path.join(d, "tokenizer_config.json")
        if os.path.exists(cfg) and os.path.getsize(cfg) < 64 << 10:
            with open(cfg, "rb") as f:
                write(out, "tokenizer_json", name + "+config.json", small + SPLIT + f.read())


# ---- tokenizer inputs ---------------------------------------------------

def tokenize_seeds(testdata, out):
    n = 0
    for p in sorted(glob.glob(os.path.join(testdata, "vocab", "*.inp"))):
        with open(p, "rb") as f:
            cases = f.read().split(b"\n__ggml_vocab_test__\n")
        for c in cases:
            if c.strip(b"\n") == b"" and len(c) > 8:
                continue
            write(out, "tokenize", "case%04d" % n, bytes([n % 256]) + c)
            n += 1
            if n >= 400:
                return


# ---- Jinja templates ----------------------------------------------------

JINJA_CONTEXT = json.dumps({
    "messages": [
        {"role": "system", "content": "You are helpful."},
        {"role": "user", "content": "What is 2+2?"},
        {"role": "assistant", "content": "4", "tool_calls": [
            {"type": "function", "function": {"name": "add", "arguments": {"a": 2, "b": 2}}}]},
        {"role": "tool", "content": "4"},
        {"role": "user", "content": "Thanks"}],
    "tools": [{"type": "function", "function": {"name": "add", "description": "Adds",
               "parameters": {"type": "object", "properties": {"a": {"type": "number"}}}}}],
    "bos_token": "<s>", "eos_token": "</s>", "add_generation_prompt": True,
    "enable_thinking": False}).encode()


def jinja_seeds(testdata, out):
    for p in sorted(glob.glob(os.path.join(testdata, "chat_templates", "*", "*.jinja"))):
        with open(p, "rb") as f:
            t = f.read()
        name = os.path.basename(p)
        write(out, "jinja", name, t)
        write(out, "jinja", name + "+ctx", t + SPLIT + JINJA_CONTEXT)


def main():
    testdata, out = sys.argv[1], sys.argv[2]
    here = os.path.dirname(os.path.abspath(__file__))
    if os.path.isdir(out):
        shutil.rmtree(out)
    for target in ("gguf", "safetensors", "config", "tokenizer_json", "tokenizer_gguf", "tokenize", "jinja", "request"):
        os.makedirs(os.path.join(out, target), exist_ok=True)
        own = os.path.join(here, "seeds", target)
        if os.path.isdir(own):
            for p in glob.glob(os.path.join(own, "*")):
                shutil.copy(p, os.path.join(out, target, os.path.basename(p)))
    if os.path.isdir(testdata):
        for fn in (gguf_seeds, safetensors_seeds, config_seeds, tokenizer_json_seeds, tokenize_seeds, jinja_seeds):
            try:
                fn(testdata, out)
            except Exception as e:  # a missing or odd file must not stop the run
                print("gen_seeds.py: %s: %s" % (fn.__name__, e), file=sys.stderr)
    for target in sorted(os.listdir(out)):
        files = os.listdir(os.path.join(out, target))
        size = sum(os.path.getsize(os.path.join(out, target, f)) for f in files)
        print("gen_seeds.py: %-15s %4d seeds, %8d bytes" % (target, len(files), size))


if __name__ == "__main__":
    main()
