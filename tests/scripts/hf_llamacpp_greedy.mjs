// hf_llamacpp_greedy.mjs - llama.cpp (node-llama-cpp, CPU) as an oracle for
// `infer convert`: load each GGUF given, feed the prompt ids, and print the
// greedy continuation as one line of comma-separated ids per file.
// Usage (from the repo root): node tests/scripts/hf_llamacpp_greedy.mjs IDS N FILE...
//   IDS: comma-separated prompt ids; N: tokens to generate.
import { getLlama } from "node-llama-cpp";

const [idsArg, nArg, ...files] = process.argv.slice(2);
const prompt = idsArg.split(",").map(Number);
const n = Number(nArg);
const llama = await getLlama({ gpu: false, build: "never", logLevel: "error" });
for (const file of files) {
    const model = await llama.loadModel({ modelPath: file });
    const context = await model.createContext({ contextSize: 256, threads: 2 });
    const sequence = context.getSequence();
    const out = [];
    for await (const token of sequence.evaluate(prompt, { temperature: 0 })) {
        out.push(token);
        if (out.length >= n) break;
    }
    console.log(out.join(","));
    await context.dispose();
    await model.dispose();
}
await llama.dispose();
