// tok_hf_ref.mjs - reference ids and texts from Hugging Face tokenizers (the
// npm binding @anush008/tokenizers, Rust tokenizers 0.22) for a corpus that
// covers the input space: scripts, emoji/ZWJ, code, whitespace runs, digits,
// contractions, special-token text, invalid UTF-8, empty input, and seeded
// random strings from a mixed alphabet. Also decodes random id sequences.
//
// usage: node tok_hf_ref.mjs OUT.jsonl SEED [--synth] DIR...   (DIR holds tokenizer.json)
// --synth adds the synthetic tokenizers of tok_synth.mjs (written under OUT.jsonl.synth/).
// Each output line is one JSON object:
//   {"tok": DIR, "hex": input bytes, "plain": ids (add_special=false),
//    "special": ids (add_special=true), "dec": decode(plain, keep special),
//    "dec_skip": decode(special, skip special)}
//   {"tok": DIR, "ids": [...], "dec": ..., "dec_skip": ...}   (decode-only)
// Decoded texts are written as hex of their UTF-8 (they may contain NULs).
// Input text is given as bytes; invalid UTF-8 is decoded the way Node and
// Rust's from_utf8_lossy do before it reaches the tokenizer.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { makeCorpus } from './tok_corpus.mjs';
import { writeSynth } from './tok_synth.mjs';

const require = createRequire(import.meta.url);
let tk;
try {
  tk = require(path.resolve(process.env.INF_SOURCE_DIR || '.', 'node_modules/@anush008/tokenizers'));
} catch (e) {
  console.error('FAIL: @anush008/tokenizers not installed (npm ci): ' + e.message);
  process.exit(1);
}
const { Tokenizer } = tk;

const [outPath, seedArg, ...dirs] = process.argv.slice(2);
if (dirs[0] === '--synth') {
  dirs.shift();
  dirs.push(...writeSynth(outPath + '.synth'));
}
if (!outPath || !dirs.length) {
  console.error('usage: node tok_hf_ref.mjs OUT.jsonl SEED DIR...');
  process.exit(2);
}

const { cases, rnd, pick } = makeCorpus(seedArg || 1234);
const hx = (s) => Buffer.from(s, 'utf8').toString('hex');

const out = fs.openSync(outPath, 'w');
for (const dir of dirs) {
  const tok = Tokenizer.fromFile(path.join(dir, 'tokenizer.json'));
  for (const bytes of cases) {
    const text = bytes.toString('utf8');
    const plain = (await tok.encode(text, null, { addSpecialTokens: false })).getIds();
    const special = (await tok.encode(text, null, { addSpecialTokens: true })).getIds();
    const dec = await tok.decode(plain, false);
    const decSkip = await tok.decode(special, true);
    fs.writeSync(out, JSON.stringify({ tok: dir, hex: bytes.toString('hex'), plain, special, dec: hx(dec), dec_skip: hx(decSkip) }) + '\n');
  }
  // decode-only: random id sequences, biased towards byte tokens, specials and spaces
  const size = tok.getVocabSize(true);
  const byteIds = [];
  for (let b = 0; b < 256; b++) {
    const id = tok.tokenToId('<0x' + b.toString(16).toUpperCase().padStart(2, '0') + '>');
    if (id !== null && id !== undefined) byteIds.push(id);
  }
  const vocab = tok.getVocab(true);
  const interesting = Object.entries(vocab)
    .filter(([t]) => /^[▁Ġ\s]|<|\u2581$|Ċ/.test(t))
    .map(([, id]) => id);
  for (let i = 0; i < 150; i++) {
    const n = 1 + Math.floor(rnd() * 25);
    const ids = [];
    for (let k = 0; k < n; k++) {
      const r = rnd();
      if (r < 0.3 && byteIds.length) ids.push(pick(byteIds));
      else if (r < 0.5 && interesting.length) ids.push(pick(interesting));
      else ids.push(Math.floor(rnd() * size));
    }
    const valid = ids.filter((id) => tok.idToToken(id) !== null && tok.idToToken(id) !== undefined);
    const dec = await tok.decode(valid, false);
    const decSkip = await tok.decode(valid, true);
    fs.writeSync(out, JSON.stringify({ tok: dir, ids: valid, dec: hx(dec), dec_skip: hx(decSkip) }) + '\n');
  }
}
fs.closeSync(out);
