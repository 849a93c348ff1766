// llama_logprobs.mjs - llama.cpp (node-llama-cpp, CPU) as the exact
// reference for a forward pass: the log-softmax of the logits at every
// position of a token sequence, with K and V kept in f32 and flash
// attention off, so that on f32 weights llama.cpp computes in f32 from end
// to end (its f16 KV cache and flash attention would round).
// Writes T x V little-endian float32 (row t = the distribution after
// token t) to OUT.
//
// usage: node llama_logprobs.mjs MODEL.gguf 1,2,3,... OUT.f32
import { writeFileSync } from "node:fs";
import { getLlama } from "node-llama-cpp";

const [path, idList, out] = process.argv.slice(2);
const ids = idList.split(",").map(Number);
const llama = await getLlama({ gpu: false, build: "never", logLevel: "error" });
const model = await llama.loadModel({ modelPath: path });
const V = model.fileInfo.metadata.tokenizer.ggml.tokens.length;
const context = await model.createContext({
    contextSize: Math.max(64, ids.length + 8), batchSize: Math.max(64, ids.length + 8), threads: 2,
    flashAttention: false, experimentalKvCacheKeyType: "F32", experimentalKvCacheValueType: "F32",
});
const full = { temperature: 1, topK: 0, topP: 1, minP: 0 };
const res = await context.getSequence().controlledEvaluate(ids.map((t) => [t, { generateNext: { probabilities: true, options: full } }]));
const lp = new Float32Array(ids.length * V).fill(-Infinity);
res.forEach((r, t) => {
    for (const [id, p] of r.next.probabilities) if (id < V && p > 0) lp[t * V + id] = Math.log(p);
});
writeFileSync(out, Buffer.from(lp.buffer));
await context.dispose();
await model.dispose();
await llama.dispose();
