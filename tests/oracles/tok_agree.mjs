// tok_agree.mjs - whether llama.cpp (node-llama-cpp, vocab-only load) on a
// GGUF tokenizes texts exactly as Hugging Face tokenizers
// (@anush008/tokenizers) tokenizes them with a directory's tokenizer.json
// (added tokens matched on both sides, no BOS/EOS). Prints one line per
// text that differs and a summary; exit 0 when all agree.
//
// usage: node tok_agree.mjs FILE.gguf DIR TEXT...
import path from "node:path";
import { getLlama } from "node-llama-cpp";
import { Tokenizer } from "@anush008/tokenizers";

const [gguf, dir, ...texts] = process.argv.slice(2);
const llama = await getLlama({ gpu: false, build: "never", logLevel: "error" });
const model = await llama.loadModel({ modelPath: gguf, vocabOnly: true });
const tok = Tokenizer.fromFile(path.join(dir, "tokenizer.json"));
let bad = 0;
for (const t of texts) {
    const a = Array.from(model.tokenize(t, true));
    const b = Array.from((await tok.encode(t, null, { addSpecialTokens: false })).getIds());
    if (JSON.stringify(a) !== JSON.stringify(b)) {
        bad++;
        console.log(`differs: ${JSON.stringify(t)}: llama.cpp ${a.join(",")} | HF ${b.join(",")}`);
    }
}
console.log(`${texts.length - bad}/${texts.length} texts tokenized alike`);
await model.dispose();
await llama.dispose();
process.exit(bad ? 1 : 0);
