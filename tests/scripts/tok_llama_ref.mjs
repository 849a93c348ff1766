// tok_llama_ref.mjs - reference ids and texts from llama.cpp itself (the
// node-llama-cpp binding in node_modules, vocab-only loads) for the shared
// corpus (tok_corpus.mjs), for GGUF vocabularies.
//
// usage: node tok_llama_ref.mjs OUT.jsonl SEED FILE.gguf...
// Lines: {"gguf": F, "meta": {"bos","eos","eot","add_bos","eog": [...], "n_vocab"}}
//        {"gguf": F, "hex": input, "plain": tokenize(parse_special=false),
//         "special": tokenize(parse_special=true), "dec": detokenize(special ids, unparse=true),
//         "dec_skip": detokenize(special ids, unparse=false), "dec_plain": detokenize(plain, true)}
//        {"gguf": F, "ids": [...], "dec": ..., "dec_skip": ...}
// The input passes through a JS string, so it is the lossy UTF-8 of the
// corpus bytes (hex is of what llama.cpp received). Decoded texts come back
// through V8 (lossy UTF-8) and are written as hex.
import fs from 'node:fs';
import path from 'node:path';
import { makeCorpus } from './tok_corpus.mjs';

let getLlama;
try {
  ({ getLlama } = await import(path.resolve(process.env.INF_SOURCE_DIR || '.', 'node_modules/node-llama-cpp/dist/index.js')));
} catch (e) {
  console.error('FAIL: node-llama-cpp not installed (npm ci): ' + e.message);
  process.exit(1);
}

const [outPath, seedArg, ...files] = process.argv.slice(2);
if (!outPath || !files.length) {
  console.error('usage: node tok_llama_ref.mjs OUT.jsonl SEED FILE.gguf...');
  process.exit(2);
}
let llama;
try {
  llama = await getLlama({ gpu: false, build: 'never', logLevel: 'error' });
} catch (e) {
  console.error('FAIL: no usable llama.cpp binary in node-llama-cpp: ' + e.message);
  process.exit(1);
}
const { cases, rnd, pick } = makeCorpus(seedArg || 1234);
const hx = (s) => Buffer.from(s, 'utf8').toString('hex');
const out = fs.openSync(outPath, 'w');
for (const file of files) {
  const model = await llama.loadModel({ modelPath: file, vocabOnly: true });
  const n = model.fileInsights?.tensorInfo ? null : null;
  void n;
  const eog = [];
  let nVocab = 0;
  // the vocabulary size: probe upwards (tokens are dense 0..n-1)
  let lo = 1, hi = 1 << 22;
  const valid = (id) => { try { model.getTokenAttributes(id); return model.detokenize([id], true) !== undefined; } catch { return false; } };
  nVocab = model.fileInfo?.metadata?.tokenizer?.ggml?.tokens?.length ?? 0;
  if (!nVocab) {
    while (lo < hi) { const mid = (lo + hi) >> 1; if (valid(mid)) lo = mid + 1; else hi = mid; }
    nVocab = lo;
  }
  for (let id = 0; id < nVocab; id++) if (model.isEogToken(id)) eog.push(id);
  const meta = { bos: model.tokens.bos, eos: model.tokens.eos, eot: model.tokens.eot,
                 add_bos: model.tokens.shouldPrependBosToken, eog, n_vocab: nVocab };
  fs.writeSync(out, JSON.stringify({ gguf: file, meta }) + '\n');
  for (const bytes of cases) {
    const text = bytes.toString('utf8');
    const plain = model.tokenize(text, false);
    const special = model.tokenize(text, true);
    fs.writeSync(out, JSON.stringify({ gguf: file, hex: hx(text), plain, special,
      dec: hx(model.detokenize(special, true)), dec_skip: hx(model.detokenize(special, false)),
      dec_plain: hx(model.detokenize(plain, true)) }) + '\n');
  }
  for (let i = 0; i < 150; i++) {
    const k = 1 + Math.floor(rnd() * 25);
    const ids = [];
    for (let j = 0; j < k; j++) ids.push(rnd() < 0.3 ? Math.floor(rnd() * Math.min(nVocab, 300)) : Math.floor(rnd() * nVocab));
    fs.writeSync(out, JSON.stringify({ gguf: file, ids, dec: hx(model.detokenize(ids, true)),
      dec_skip: hx(model.detokenize(ids, false)) }) + '\n');
  }
  void pick;
  await model.dispose();
}
fs.closeSync(out);
await llama.dispose?.();
