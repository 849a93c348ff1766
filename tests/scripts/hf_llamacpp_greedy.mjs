// hf_llamacpp_greedy.mjs - llama.cpp (node-llama-cpp, CPU) as an oracle for
// `infer convert`: for each FILE@IDS argument, load the GGUF, feed the
// comma-separated prompt ids and print the greedy continuation (N ids,
// comma-separated) as one line, in argument order.
// Usage (from the repo root): node tests/scripts/hf_llamacpp_greedy.mjs N FILE@IDS...
import { getLlama } from "node-llama-cpp";

const [nArg, ...items] = process.argv.slice(2);
const n = Number(nArg);
const llama = await getLlama({ gpu: false, build: "never", logLevel: "error" });
for (const item of items) {
    const at = item.lastIndexOf("@");
    const file = item.slice(0, at);
    const prompt = item.slice(at + 1).split(",").map(Number);
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
