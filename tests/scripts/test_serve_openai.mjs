// test_serve_openai.mjs - drives a running `infer serve` with the official
// OpenAI npm client (the independent reference for the protocol: if the
// client parses our answers and raises its own exceptions for our errors,
// OpenAI consumers will too). Usage: node test_serve_openai.mjs URL MODEL_ID
// Expected token counts come from the server's /tokenize (llama.cpp's
// protocol), the greedy texts from a lone request of the same kind.
import OpenAI from 'openai';

const [url, modelId] = process.argv.slice(2);
const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0, timeout: 120000 });
let failed = 0, passed = 0;
function check(name, cond, detail) {
    if (cond) { passed++; console.log(`ok   ${name}`); }
    else { failed++; console.log(`FAIL ${name}${detail !== undefined ? ': ' + detail : ''}`); }
}
async function countTokens(text) {
    const r = await fetch(`${url}/tokenize`, { method: 'POST', body: JSON.stringify({ content: text, add_special: true }) });
    return (await r.json()).tokens.length;
}
async function expectError(name, fn, status, cls) {
    try {
        await fn();
        check(name, false, 'no exception');
    } catch (e) {
        check(name, e instanceof OpenAI.APIError && e.status === status && e instanceof cls,
              `${e?.constructor?.name} status ${e?.status}: ${e?.message}`);
        check(`${name}: message from the server`, typeof e?.error?.message === 'string' && e.error.message.length > 0,
              JSON.stringify(e?.error));
    }
}

const PROMPT = 'Once upon a time';
const N = 24;

// Completions, non-streamed.
const c1 = await client.completions.create({ model: modelId, prompt: PROMPT, max_tokens: N, temperature: 0 });
const text = c1.choices[0].text;
check('completion: text', typeof text === 'string' && text.length > 0, JSON.stringify(c1));
check('completion: object/model', c1.object === 'text_completion' && c1.model === modelId);
check('completion: finish_reason length', c1.choices[0].finish_reason === 'length', c1.choices[0].finish_reason);
const promptTokens = await countTokens(PROMPT);
check('completion: usage.prompt_tokens = /tokenize count', c1.usage?.prompt_tokens === promptTokens,
      `${c1.usage?.prompt_tokens} vs ${promptTokens}`);
check('completion: usage.completion_tokens = max_tokens', c1.usage?.completion_tokens === N, c1.usage?.completion_tokens);
check('completion: usage.total_tokens', c1.usage?.total_tokens === promptTokens + N);
if (process.env.DIRECT_TEXT !== undefined)
    check('completion text = infer run (the CLI, no server)', PROMPT + text === process.env.DIRECT_TEXT || text === process.env.DIRECT_TEXT,
          `${JSON.stringify(text)} vs ${JSON.stringify(process.env.DIRECT_TEXT)}`);

// Completions, streamed, with the usage chunk.
{
    const stream = await client.completions.create({ model: modelId, prompt: PROMPT, max_tokens: N, temperature: 0,
                                                     stream: true, stream_options: { include_usage: true } });
    let got = '', usage = null, finish = null, chunks = 0;
    for await (const ch of stream) {
        chunks++;
        if (ch.choices?.length) { got += ch.choices[0].text ?? ''; finish = ch.choices[0].finish_reason ?? finish; }
        if (ch.usage) usage = ch.usage;
    }
    check('completion stream: same text as non-streamed', got === text, `${JSON.stringify(got)} vs ${JSON.stringify(text)}`);
    check('completion stream: several chunks', chunks > 2, chunks);
    check('completion stream: finish_reason length', finish === 'length', finish);
    check('completion stream: usage chunk', usage?.completion_tokens === N && usage?.prompt_tokens === promptTokens,
          JSON.stringify(usage));
}

// Stop sequences: cut before the first occurrence of a word of the text.
{
    const words = text.trim().split(/\s+/);
    const stopWord = ' ' + (words.length > 2 ? words[2] : words[0]);
    const at = text.indexOf(stopWord);
    const r = await client.completions.create({ model: modelId, prompt: PROMPT, max_tokens: N, temperature: 0, stop: [stopWord] });
    check('stop sequence: text cut before it', at >= 0 && r.choices[0].text === text.slice(0, at),
          `${JSON.stringify(r.choices[0].text)} vs ${JSON.stringify(text.slice(0, at))} (stop ${JSON.stringify(stopWord)})`);
    check('stop sequence: finish_reason stop', r.choices[0].finish_reason === 'stop', r.choices[0].finish_reason);
    check('stop sequence: usage.prompt_tokens', r.usage?.prompt_tokens === promptTokens, JSON.stringify(r.usage));
    const s = await client.completions.create({ model: modelId, prompt: PROMPT, max_tokens: N, temperature: 0, stop: stopWord, stream: true });
    let got = '';
    for await (const ch of s) got += ch.choices?.[0]?.text ?? '';
    check('stop sequence, streamed: same cut', got === text.slice(0, at), JSON.stringify(got));
}

// Chat, non-streamed and streamed.
const messages = [{ role: 'user', content: 'Tell me a story.' }];
const ch1 = await client.chat.completions.create({ model: modelId, messages, max_tokens: 16, temperature: 0 });
const chatText = ch1.choices[0].message.content;
check('chat: assistant message', ch1.object === 'chat.completion' && ch1.choices[0].message.role === 'assistant' &&
      typeof chatText === 'string' && chatText.length > 0, JSON.stringify(ch1));
check('chat: usage.completion_tokens', ch1.usage?.completion_tokens === 16 && ch1.choices[0].finish_reason === 'length',
      JSON.stringify(ch1.usage));
{
    const rendered = await (await fetch(`${url}/apply-template`, { method: 'POST', body: JSON.stringify({ messages }) })).json();
    const n = await countTokens(rendered.prompt);
    // The template may write BOS itself: then the library does not add a second one.
    check('chat: usage.prompt_tokens = tokens of the rendered template',
          ch1.usage?.prompt_tokens === n || ch1.usage?.prompt_tokens === n - 1, `${ch1.usage?.prompt_tokens} vs ${n}`);
    check('chat: usage.total_tokens', ch1.usage?.total_tokens === ch1.usage?.prompt_tokens + 16);
}
{
    const stream = await client.chat.completions.create({ model: modelId, messages, max_tokens: 16, temperature: 0, stream: true,
                                                          stream_options: { include_usage: true } });
    let got = '', role = null, usage = null, finish = null;
    for await (const ch of stream) {
        const d = ch.choices?.[0]?.delta;
        if (d?.role) role = d.role;
        if (d?.content) got += d.content;
        if (ch.choices?.[0]?.finish_reason) finish = ch.choices[0].finish_reason;
        if (ch.usage) usage = ch.usage;
    }
    check('chat stream: same text as non-streamed', got === chatText, `${JSON.stringify(got)} vs ${JSON.stringify(chatText)}`);
    check('chat stream: role assistant, finish length', role === 'assistant' && finish === 'length', `${role} ${finish}`);
    check('chat stream: usage chunk', usage?.completion_tokens === 16, JSON.stringify(usage));
}

// Errors surface as the client's exceptions.
await expectError('bad field type -> BadRequestError 400',
                  () => client.completions.create({ model: modelId, prompt: PROMPT, max_tokens: 'many' }), 400, OpenAI.BadRequestError);
await expectError('missing messages -> BadRequestError 400',
                  () => client.chat.completions.create({ model: modelId }), 400, OpenAI.BadRequestError);
await expectError('bad message content -> BadRequestError 400',
                  () => client.chat.completions.create({ model: modelId, messages: [{ role: 'user', content: 42 }] }), 400, OpenAI.BadRequestError);
await expectError('unknown model resource -> NotFoundError 404',
                  () => client.models.retrieve('no-such-model'), 404, OpenAI.NotFoundError);
await expectError('streamed request with a bad field -> BadRequestError 400',
                  () => client.completions.create({ model: modelId, prompt: PROMPT, temperature: 'hot', stream: true }), 400, OpenAI.BadRequestError);
{
    const models = await client.models.list();
    check('models.list names the served model', models.data.some((m) => m.id === modelId), JSON.stringify(models.data));
}

// 16 concurrent greedy clients each get the text a lone request gets.
{
    const prompts = ['Once upon a time', 'The little dog', 'Lily wanted to', 'One day, a big'];
    const lone = [];
    for (const p of prompts)
        lone.push((await client.completions.create({ model: modelId, prompt: p, max_tokens: 32, temperature: 0 })).choices[0].text);
    const loneChat = chatText;
    const jobs = [];
    for (let i = 0; i < 16; i++) {
        if (i % 5 === 4) {
            jobs.push(client.chat.completions.create({ model: modelId, messages, max_tokens: 16, temperature: 0 })
                .then((r) => [loneChat, r.choices[0].message.content]));
        } else if (i % 2) {
            jobs.push((async () => {
                const s = await client.completions.create({ model: modelId, prompt: prompts[i % 4], max_tokens: 32, temperature: 0, stream: true });
                let t = '';
                for await (const ch of s) t += ch.choices?.[0]?.text ?? '';
                return [lone[i % 4], t];
            })());
        } else {
            jobs.push(client.completions.create({ model: modelId, prompt: prompts[i % 4], max_tokens: 32, temperature: 0 })
                .then((r) => [lone[i % 4], r.choices[0].text]));
        }
    }
    const results = await Promise.allSettled(jobs);
    let same = 0;
    const bad = [];
    results.forEach((r, i) => {
        if (r.status === 'fulfilled' && r.value[0] === r.value[1]) same++;
        else bad.push(`#${i}: ${r.status === 'fulfilled' ? JSON.stringify(r.value) : r.reason}`);
    });
    check('16 concurrent greedy clients: each text = the lone request\'s', same === 16, `${same}/16; ${bad.join('; ')}`);
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
