// cli_oracles.mjs - independent references for the `infer` CLI tests.
//   node tests/scripts/cli_oracles.mjs hf-tokenize DIR TEXTS.json
//       for each text of the JSON array TEXTS.json, one line [ids with
//       special tokens added, ids without] as @anush008/tokenizers (the Rust
//       tokenizers crate) gives them with DIR/tokenizer.json
//   node tests/scripts/cli_oracles.mjs jinja TEMPLATE_FILE CONVERSATION_FILE
//       the conversation rendered with @huggingface/jinja, written exactly
import { readFileSync } from 'node:fs';

const [mode, a, b] = process.argv.slice(2);
if (mode === 'hf-tokenize') {
    const { Tokenizer } = await import('@anush008/tokenizers');
    const tok = Tokenizer.fromFile(a + '/tokenizer.json');
    for (const text of JSON.parse(readFileSync(b, 'utf8'))) {
        const add = await tok.encode(text, null, { addSpecialTokens: true });
        const plain = await tok.encode(text, null, { addSpecialTokens: false });
        process.stdout.write(JSON.stringify([add.getIds(), plain.getIds()]) + '\n');
    }
} else if (mode === 'jinja') {
    const { Template } = await import('@huggingface/jinja');
    const conv = JSON.parse(readFileSync(b, 'utf8'));
    const vars = { add_generation_prompt: true, bos_token: '', eos_token: '', ...conv };
    process.stdout.write(new Template(readFileSync(a, 'utf8')).render(vars));
} else {
    process.stderr.write('usage: cli_oracles.mjs hf-tokenize|jinja ...\n');
    process.exit(2);
}
