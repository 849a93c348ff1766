// llama_goldens.mjs - llama.cpp (node-llama-cpp, CPU) as the oracle that
// writes reference outputs for the models the tests generate, in the layout
// of ../shared/testdata/golden (see its README):
//   golden/NAME/N.json          model, prompt, prompt_ids (llama.cpp's own
//                               tokenization, BOS when the model asks),
//                               greedy_ids (the next 32 tokens at temperature
//                               0), greedy_text, stop ("limit" or "eos")
//   golden/NAME/N.logprobs.f32  log-softmax of the logits at the last prompt
//                               position, little-endian float32 per vocab id
//                               (llama.cpp reports probabilities, not raw
//                               logits; log-softmax compares the same way)
// for the three golden prompts, with llama.cpp's defaults as the shared
// goldens were made (f16 KV cache, flash attention on, 2 threads).
//
// usage: node llama_goldens.mjs TESTDATA NAME=MODEL_REL...
//        node llama_goldens.mjs --bos-greedy N MODEL OUT_IDS OUT_TEXT
//          (greedy from BOS alone: N ids on one line, and their text with
//           the first token's leading space dropped, as llama2.c prints it)
import { mkdirSync, writeFileSync } from "node:fs";
import { getLlama } from "node-llama-cpp";

const PROMPTS = ["Once upon a time", "The capital of France is", "def fibonacci(n):\n    "];
const N_GREEDY = 32;
const FULL = { temperature: 1, topK: 0, topP: 1, minP: 0 };

const llama = await getLlama({ gpu: false, build: "never", logLevel: "error" });

async function openModel(path) {
    const model = await llama.loadModel({ modelPath: path });
    const context = await model.createContext({ contextSize: 512, batchSize: 512, threads: 2, flashAttention: true });
    return { model, context, sequence: context.getSequence() };
}

async function greedy(m, ids, n) {
    await m.sequence.clearHistory();
    const out = [];
    let stop = "limit";
    for await (const token of m.sequence.evaluate(ids, { temperature: 0 })) {
        if (m.model.isEogToken(token)) { stop = "eos"; break; }
        out.push(token);
        if (out.length >= n) break;
    }
    return { out, stop };
}

async function lastLogprobs(m, ids) {
    await m.sequence.clearHistory();
    const input = ids.map((t, j) => (j === ids.length - 1 ? [t, { generateNext: { probabilities: true, options: FULL } }] : t));
    const res = await m.sequence.controlledEvaluate(input);
    const probs = res[ids.length - 1].next.probabilities;
    const lp = new Float32Array(m.model.fileInfo.metadata.tokenizer.ggml.tokens.length);
    lp.fill(-Infinity);
    for (const [id, p] of probs) if (id < lp.length) lp[id] = p > 0 ? Math.log(p) : -Infinity;
    return lp;
}

function promptIds(model, text) {
    const bos = model.tokens.bos;
    const addBos = bos != null && model.tokens.shouldPrependBosToken;
    return [...(addBos ? [bos] : []), ...model.tokenize(text)];
}

async function goldens(testdata, items) {
    for (const item of items) {
        const eq = item.indexOf("=");
        const name = item.slice(0, eq), rel = item.slice(eq + 1);
        const m = await openModel(`${testdata}/${rel}`);
        const dir = `${testdata}/golden/${name}`;
        mkdirSync(dir, { recursive: true });
        for (let i = 0; i < PROMPTS.length; i++) {
            const ids = promptIds(m.model, PROMPTS[i]);
            const lp = await lastLogprobs(m, ids);
            const g = await greedy(m, ids, N_GREEDY);
            writeFileSync(`${dir}/${i}.logprobs.f32`, Buffer.from(lp.buffer));
            writeFileSync(`${dir}/${i}.json`, JSON.stringify({
                model: rel, prompt: PROMPTS[i], prompt_ids: ids, greedy_ids: g.out,
                greedy_text: m.model.detokenize(g.out, false, ids), stop: g.stop,
                source: "node-llama-cpp 3.21.1 (llama.cpp CPU), computed at test time",
            }, null, 1));
        }
        await m.context.dispose();
        await m.model.dispose();
    }
}

async function bosGreedy(n, path, outIds, outText) {
    const m = await openModel(path);
    const g = await greedy(m, [m.model.tokens.bos], n);
    writeFileSync(outIds, g.out.join(" ") + "\n");
    writeFileSync(outText, m.model.detokenize(g.out).replace(/^ /, "") + "\n");
    await m.context.dispose();
    await m.model.dispose();
}

const args = process.argv.slice(2);
if (args[0] === "--bos-greedy") await bosGreedy(Number(args[1]), args[2], args[3], args[4]);
else await goldens(args[0], args.slice(1));
await llama.dispose();
