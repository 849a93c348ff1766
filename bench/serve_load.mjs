// serve_load.mjs - a bounded load run against a running server (loopback):
// N requests (default 200) from C concurrent workers (default 8), greedy
// /v1/completions of T tokens, every 4th one streamed. Prints one JSON line:
// requests, errors, seconds, requests/s, latency p50/p90/p99 (ms), tokens/s.
//   node bench/serve_load.mjs URL [N] [C] [T]
const [url, nArg, cArg, tArg] = process.argv.slice(2);
const N = Number(nArg ?? 200), C = Number(cArg ?? 8), T = Number(tArg ?? 32);
const prompts = ['Once upon a time', 'The little dog', 'Lily wanted to', 'One day, a big', 'Tom and his mom'];
const lat = [];
let errors = 0, tokens = 0, next = 0;
async function one(i) {
    const stream = i % 4 === 3;
    const body = JSON.stringify({ model: 'm', prompt: prompts[i % prompts.length], max_tokens: T, temperature: 0, stream,
                                  stream_options: stream ? { include_usage: true } : undefined });
    const t0 = performance.now();
    try {
        const r = await fetch(`${url}/v1/completions`, { method: 'POST', body, headers: { 'Content-Type': 'application/json' } });
        const text = await r.text();
        if (r.status !== 200) { errors++; return; }
        if (stream) {
            if (!text.includes('data: [DONE]')) { errors++; return; }
            const m = text.match(/"completion_tokens":(\d+)/);
            tokens += m ? Number(m[1]) : 0;
        } else {
            tokens += JSON.parse(text).usage.completion_tokens;
        }
        lat.push(performance.now() - t0);
    } catch (e) {
        errors++;
    }
}
async function worker() {
    while (next < N) await one(next++);
}
const t0 = performance.now();
await Promise.all(Array.from({ length: C }, worker));
const secs = (performance.now() - t0) / 1000;
lat.sort((a, b) => a - b);
const pct = (p) => lat.length ? lat[Math.min(lat.length - 1, Math.floor(p / 100 * lat.length))] : NaN;
console.log(JSON.stringify({ requests: N, concurrency: C, max_tokens: T, errors, seconds: +secs.toFixed(2),
                             rps: +(N / secs).toFixed(1), p50_ms: +pct(50).toFixed(1), p90_ms: +pct(90).toFixed(1),
                             p99_ms: +pct(99).toFixed(1), gen_tok_s: +(tokens / secs).toFixed(0) }));
