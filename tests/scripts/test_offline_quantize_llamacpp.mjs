// test_offline_quantize_llamacpp.mjs - llama.cpp (node-llama-cpp, CPU) as the oracle for
// files written by `infer quantize`: loads each GGUF and prints, per file, one
// JSON line with
//   greedy: the first N greedy token ids after PROMPT (tokenized, BOS as the
//           model asks) and their text,
//   ppl:    perplexity over the file's TEXTFILE computed as llama-perplexity does
//           (BOS prepended when the model asks, windows of CTX tokens, first
//           token of each window set to BOS, second half of each scored).
// Usage (repo root): node tests/scripts/test_offline_quantize_llamacpp.mjs N CTX PROMPT FILE@TEXTFILE...
import { readFileSync } from "node:fs";
import { getLlama } from "node-llama-cpp";

const [nArg, ctxArg, promptText, ...items] = process.argv.slice(2);
const n = Number(nArg), nCtx = Number(ctxArg);
const llama = await getLlama({ gpu: false, build: "never", logLevel: "error" });

// -log p(target) at every scored position of one window.
async function windowNll(sequence, win, first) {
    await sequence.clearHistory();
    const opts = { temperature: 1, topK: 0, topP: 1, minP: 0 };
    const input = win.map((t, j) => (j >= first && j < win.length - 1)
        ? [t, { generateNext: { probabilities: true, options: opts } }] : t);
    const out = await sequence.controlledEvaluate(input);
    const nll = [];
    for (let j = first; j < win.length - 1; j++) {
        const probs = out[j]?.next?.probabilities;
        if (!probs) throw new Error(`no probabilities at ${j}`);
        const p = probs.get(win[j + 1]) ?? 0;
        nll.push(-Math.log(p));
    }
    return nll;
}

for (const item of items) {
    const at = item.lastIndexOf("@");
    const file = item.slice(0, at);
    const text = readFileSync(item.slice(at + 1), "utf8");
    const model = await llama.loadModel({ modelPath: file });
    const context = await model.createContext({ contextSize: Math.max(256, nCtx), batchSize: Math.max(256, nCtx), threads: 2 });
    const sequence = context.getSequence();
    const bos = model.tokens.bos;
    const addBos = bos != null && model.tokens.shouldPrependBosToken;
    const prompt = [...(addBos ? [bos] : []), ...model.tokenize(promptText)];
    const greedy = [];
    for await (const token of sequence.evaluate(prompt, { temperature: 0 })) {
        greedy.push(token);
        if (greedy.length >= n) break;
    }
    let toks = Array.from(model.tokenize(text));
    if (addBos) toks = [bos, ...toks];
    const nChunks = Math.floor(toks.length / nCtx);
    let sum = 0, count = 0;
    for (let c = 0; c < nChunks; c++) {
        const win = toks.slice(c * nCtx, (c + 1) * nCtx);
        if (addBos) win[0] = bos;
        for (const v of await windowNll(sequence, win, nCtx >> 1)) { sum += v; count++; }
    }
    console.log(JSON.stringify({ file, greedy, text: model.detokenize(greedy), text2: model.detokenize(greedy.slice(0, 2)), n_tokens: toks.length, scored: count, ppl: Math.exp(sum / count) }));
    await context.dispose();
    await model.dispose();
}
await llama.dispose();
