// bench_tokenizer.mjs - Hugging Face tokenizers' (npm @anush008/tokenizers,
// Rust tokenizers 0.22) single-thread encode speed on a text file, in the
// same chunks as bench_tokenizer.c. Prints one JSON line per tokenizer:
//   {"dir", "load_ms" (CPU), "bytes", "tokens", "wall_ms", "cpu_ms"}
// usage: node bench_tokenizer.mjs TEXT_FILE CHUNK_BYTES DIR...
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

process.env.RAYON_NUM_THREADS = '1';
process.env.TOKENIZERS_PARALLELISM = 'false';
const require = createRequire(import.meta.url);
let tk;
try {
  tk = require(path.resolve(process.env.INF_SOURCE_DIR || '.', 'node_modules/@anush008/tokenizers'));
} catch (e) {
  console.error('SKIP: @anush008/tokenizers not installed: ' + e.message);
  process.exit(77);
}
const [file, chunkArg, ...dirs] = process.argv.slice(2);
const buf = fs.readFileSync(file);
const chunk = Number(chunkArg);
// chunks split at byte offsets, moved back to a UTF-8 boundary (as the C side)
const chunks = [];
for (let i = 0; i < buf.length;) {
  let j = Math.min(buf.length, i + chunk);
  while (j < buf.length && (buf[j] & 0xc0) === 0x80) j++;
  chunks.push(buf.subarray(i, j).toString('utf8'));
  i = j;
}
for (const dir of dirs) {
  const l0 = process.cpuUsage();
  const tok = tk.Tokenizer.fromFile(path.join(dir, 'tokenizer.json'));
  const lu = process.cpuUsage(l0);
  const loadMs = (lu.user + lu.system) / 1000; // CPU time, like the C side
  let t0;
  // warm-up on the first chunks
  for (let k = 0; k < Math.min(8, chunks.length); k++) await tok.encode(chunks[k], null, { addSpecialTokens: false });
  let tokens = 0;
  const c0 = process.cpuUsage();
  t0 = process.hrtime.bigint();
  for (const c of chunks) tokens += (await tok.encode(c, null, { addSpecialTokens: false })).getLength();
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const cu = process.cpuUsage(c0);
  console.log(JSON.stringify({ dir, load_ms: loadMs, bytes: buf.length, tokens, wall_ms: wallMs, cpu_ms: (cu.user + cu.system) / 1000 }));
}
