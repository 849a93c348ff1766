// Renders chat templates on many conversations with @huggingface/jinja, the
// reference that src/text/jinja must match byte for byte, and writes what it
// rendered (or that it failed) for tests/unit/test_chat_jinja_reference.c to compare.
//
// Usage: node tests/scripts/test_chat_jinja_reference.mjs OUTDIR [TEMPLATE_OR_DIR...]
//   Writes OUTDIR/templates.json ([{name, source}]) and OUTDIR/cases.jsonl
//   (one {"t": template index, "c": case name, "ctx": context, "now": seconds,
//   "out": rendered text or null, "err": message or null} per line).
//   With no TEMPLATE_OR_DIR: the chat_template of every tokenizer_config.json
//   under $INF_TESTDATA/{tokenizers,models/random} (the npm tokenizer
//   packages' under make test), the one-construct and random snippets, and
//   under make conformance (INF_CONFORMANCE=1) the 66 llama.cpp templates of
//   $INF_TESTDATA/chat_templates/llama.cpp too.
//   A TEMPLATE_OR_DIR is a .jinja file, a tokenizer_config.json, or a folder
//   of either.
// strftime_now() sees a fixed time (NOW below); run with TZ=UTC.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");
const require = createRequire(path.join(root, "package.json"));
const { Template } = await import(require.resolve("@huggingface/jinja"));
const { snippets, randomSnippets, SNIPPET_CONTEXT } = await import("./jinja_snippets.mjs");

const NOW_MS = Date.UTC(2025, 6, 9, 14, 5, 33); // Wed 9 July 2025 14:05:33 UTC
const RealDate = Date;
globalThis.Date = class extends RealDate {
	constructor(...a) {
		if (a.length === 0) super(NOW_MS);
		else super(...a);
	}
	static now() {
		return NOW_MS;
	}
};

const outdir = process.argv[2];
if (!outdir) {
	console.error("usage: test_chat_jinja_reference.mjs OUTDIR [TEMPLATE_OR_DIR...]");
	process.exit(2);
}
const testdata = process.env.INF_TESTDATA;
if (!testdata) {
	console.error("FAIL: INF_TESTDATA is not set (run through ctest)");
	process.exit(1);
}

const templates = [];
function addConfig(file, label) {
	const cfg = JSON.parse(fs.readFileSync(file, "utf8"));
	const t = cfg.chat_template;
	if (Array.isArray(t)) {
		for (const x of t) templates.push({ name: `${label}:${x.name}`, source: x.template });
	} else if (typeof t === "string") {
		templates.push({ name: label, source: t });
	}
}
function addPath(p, label) {
	if (!fs.existsSync(p)) {
		console.error(`note: ${p} is missing`);
		return;
	}
	const st = fs.statSync(p);
	if (st.isDirectory()) {
		for (const f of fs.readdirSync(p).sort()) {
			const full = path.join(p, f);
			if (fs.statSync(full).isDirectory()) {
				const cfg = path.join(full, "tokenizer_config.json");
				if (fs.existsSync(cfg)) addConfig(cfg, path.join(label, f));
			} else if (f.endsWith(".jinja")) {
				templates.push({ name: path.join(label, f), source: fs.readFileSync(full, "utf8") });
			} else if (f === "tokenizer_config.json") {
				addConfig(full, label);
			}
		}
	} else if (p.endsWith(".json")) {
		addConfig(p, label);
	} else {
		templates.push({ name: label, source: fs.readFileSync(p, "utf8") });
	}
}
const extra = process.argv.slice(3);
if (extra.length) {
	for (const p of extra) addPath(p, path.basename(p));
} else {
	if (process.env.INF_CONFORMANCE === "1") addPath(path.join(testdata, "chat_templates/llama.cpp"), "llama.cpp");
	addPath(path.join(testdata, "tokenizers"), "tokenizers");
	addPath(path.join(testdata, "models/random"), "models/random");
	if (!process.env.JINJA_NO_SNIPPETS) {
		for (const t of snippets()) templates.push({ ...t, snippet: true });
		const n = Number(process.env.JINJA_RANDOM || 3000), seed = Number(process.env.JINJA_SEED || 12345);
		for (const t of randomSnippets(n, seed)) templates.push({ ...t, snippet: true });
	}
}

// ---- conversations ---------------------------------------------------------
const weatherTool = {
	type: "function",
	function: {
		name: "get_weather",
		description: "Get the current weather for a city.",
		parameters: {
			type: "object",
			properties: {
				city: { type: "string", description: "City name, e.g. \"Paris\"" },
				unit: { type: "string", enum: ["celsius", "fahrenheit"], description: "Temperature unit" },
				days: { type: "integer", description: "Forecast days", default: 1 },
			},
			required: ["city"],
		},
	},
};
const searchTool = {
	type: "function",
	function: {
		name: "web_search",
		description: "Search the web.\nReturns the top results.",
		parameters: {
			type: "object",
			properties: {
				query: { type: "string" },
				max_results: { type: "number", minimum: 1, maximum: 10.5 },
				filters: {
					type: "object",
					properties: { site: { type: "string" }, recent: { type: "boolean" } },
				},
				tags: { type: "array", items: { type: "string" } },
			},
			required: ["query", "max_results"],
		},
	},
};
const tools = [weatherTool, searchTool];
const call1 = { id: "call_1", type: "function", function: { name: "get_weather", arguments: { city: "Paris", unit: "celsius" } } };
const call2 = {
	id: "call_2",
	type: "function",
	function: { name: "web_search", arguments: { query: "jinja \"templates\"", max_results: 3, filters: { recent: true, site: null }, tags: ["a", "b"], ratio: 0.25 } },
};
const callStr = { id: "call_9", type: "function", function: { name: "get_weather", arguments: "{\"city\": \"Tōkyō\"}" } };

const U = (content) => ({ role: "user", content });
const A = (content) => ({ role: "assistant", content });
const S = (content) => ({ role: "system", content });

const conversations = {
	single: [U("Hello")],
	system: [S("You are a helpful assistant."), U("Hi there")],
	multi_turn: [S("Be brief."), U("What is 2+2?"), A("4"), U("And 3+3?")],
	assistant_last: [U("Tell me a joke"), A("Why did the chicken cross the road?")],
	empty_content: [U(""), A(""), U("")],
	multiline: [U("Line 1\nLine 2\n\n    indented line\n\tTabbed\n"), A("Sure:\n- a\n- b\n"), U("  trailing spaces  \n")],
	non_ascii: [S("Réponds en français 🇫🇷"), U("Grüße, 世界! Привет 👋 — ça va? ß İ ﬁ ΣΑΣ"), A("Très bien ✓"), U("日本語でお願いします")],
	long: [
		S("System prompt with {{ braces }} and {% tags %} and <|special|> tokens."),
		U("q1"), A("a1"), U("q2"), A("a2"), U("q3"), A("a3"), U("q4"),
	],
	special_chars: [U("Quotes \" ' and backslash \\ and JSON {\"a\": [1, 2]} and </s><s> [INST] <|im_end|>"), A("ok\\n"), U("\u0001ctrl\u007f")],
	consecutive_users: [U("first"), U("second"), A("reply")],
	tools_query: { messages: [S("You can call tools."), U("What's the weather in Paris?")], tools },
	tool_call_roundtrip: {
		messages: [
			U("What's the weather in Paris?"),
			{ role: "assistant", content: "", tool_calls: [call1] },
			{ role: "tool", content: "{\"temperature\": 21.5, \"sky\": \"clear\"}", tool_call_id: "call_1", name: "get_weather" },
			A("It is 21.5°C and clear in Paris."),
		],
		tools,
	},
	tool_call_pending: {
		messages: [
			S("Use tools when needed."),
			U("Search for jinja and weather in Paris"),
			{ role: "assistant", content: null, tool_calls: [call1, call2] },
			{ role: "tool", content: "21C", tool_call_id: "call_1", name: "get_weather" },
			{ role: "tool", content: "[\"result one\", \"result two\"]", tool_call_id: "call_2", name: "web_search" },
		],
		tools,
	},
	tool_call_string_args: {
		messages: [U("Weather in Tokyo?"), { role: "assistant", content: "Checking.", tool_calls: [callStr] }, { role: "tool", content: "sunny", tool_call_id: "call_9" }],
		tools: [weatherTool],
	},
	tools_no_system_multi: {
		messages: [U("hi"), A("hello"), U("weather in Oslo?")],
		tools: [weatherTool],
	},
	documents: {
		messages: [U("What do the documents say about cats?")],
		documents: [
			{ title: "Cats", text: "Cats sleep a lot.\nThey purr." },
			{ title: "Dogs", text: "Dogs bark." },
		],
	},
	thinking_history: {
		messages: [
			U("Solve x+1=3"),
			{ role: "assistant", content: "x = 2", reasoning_content: "Subtract 1 from both sides." },
			U("Now x+2=5"),
		],
	},
	think_tags_in_content: [U("Q1"), A("<think>\nreasoning here\n</think>\n\nThe answer is 42."), U("Q2")],
	content_parts: [
		{ role: "system", content: [{ type: "text", text: "Part system" }] },
		{ role: "user", content: [{ type: "text", text: "Describe this: " }, { type: "text", text: "two parts" }] },
	],
	date_string: { messages: [U("What day is it?")], date_string: "26 Jul 2024" },
	null_content: [U("hi"), A(null), U("again")],
	image_parts: [{ role: "user", content: [{ type: "image" }, { type: "text", text: "What is in the image?" }] }, A("A cat."), { role: "user", content: [{ type: "text", text: "Sure?" }] }],
	mid_system: [U("a"), A("b"), S("new instructions"), U("c")],
	developer_role: [{ role: "developer", content: "Be terse." }, U("hi")],
	long_content: [S("x".repeat(3000)), U(("Lorem ipsum dolor sit amet, ").repeat(200) + "\nEnd.")],
	no_tokens: { messages: [S("sys"), U("hello")], __no_tokens: true },
	numbers_and_nulls: {
		messages: [U("Numbers"), { role: "assistant", content: "x", tool_calls: [{ id: "c3", type: "function", function: { name: "web_search", arguments: { query: "n", max_results: 2, score: 1.5, big: 1e21, neg: -0.0001, nested: { a: [1, 2.5, null, true, "s"] } } } }] }, { role: "tool", content: "done", tool_call_id: "c3" }, U("thanks")],
		tools: [searchTool],
	},
};

function contexts() {
	const out = [];
	for (const [name, conv] of Object.entries(conversations)) {
		const base = Array.isArray(conv) ? { messages: conv } : { ...conv };
		const noTokens = base.__no_tokens;
		delete base.__no_tokens;
		if (!noTokens) {
			base.bos_token = "<s>";
			base.eos_token = "</s>";
		}
		for (const agp of [true, false]) {
			out.push([`${name}/agp=${agp}`, { ...base, add_generation_prompt: agp }]);
		}
	}
	for (const et of [true, false]) {
		out.push([`thinking_history/enable_thinking=${et}`, { messages: conversations.thinking_history.messages, bos_token: "<s>", eos_token: "</s>", add_generation_prompt: true, enable_thinking: et }]);
		out.push([`system/enable_thinking=${et}`, { messages: conversations.system, bos_token: "<s>", eos_token: "</s>", add_generation_prompt: true, enable_thinking: et }]);
		out.push([`tools_query/enable_thinking=${et}`, { ...conversations.tools_query, bos_token: "<s>", eos_token: "</s>", add_generation_prompt: true, enable_thinking: et }]);
	}
	return out;
}

function wtf8Hex(str) {
	const bytes = [];
	for (let i = 0; i < str.length; i++) {
		let c = str.charCodeAt(i);
		if (c >= 0xd800 && c <= 0xdbff && i + 1 < str.length) {
			const d = str.charCodeAt(i + 1);
			if (d >= 0xdc00 && d <= 0xdfff) {
				c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
				i++;
			}
		}
		if (c < 0x80) bytes.push(c);
		else if (c < 0x800) bytes.push(0xc0 | (c >> 6), 0x80 | (c & 63));
		else if (c < 0x10000) bytes.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
		else bytes.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
	}
	return Buffer.from(bytes).toString("hex");
}

// ---- render ----------------------------------------------------------------
fs.mkdirSync(outdir, { recursive: true });
fs.writeFileSync(path.join(outdir, "templates.json"), JSON.stringify(templates.map(({ name, source }) => ({ name, source }))));
const lines = [];
let parseErrors = 0, renderErrors = 0, total = 0;
const ctxs = contexts();
templates.forEach((t, ti) => {
	let tmpl = null, perr = null;
	try {
		tmpl = new Template(t.source);
	} catch (e) {
		perr = String(e && e.message);
		parseErrors++;
	}
	for (const [cname, ctx] of t.snippet ? [["snippet", SNIPPET_CONTEXT]] : ctxs) {
		const json = JSON.stringify(ctx);
		let out = null, err = perr;
		if (tmpl) {
			try {
				out = tmpl.render(JSON.parse(json));
			} catch (e) {
				err = String(e && e.message);
				renderErrors++;
			}
		}
		total++;
		const rec = { t: ti, c: cname, ctx: JSON.parse(json), now: NOW_MS / 1000, out, err };
		if (out !== null && (!out.isWellFormed() || out.includes("\0"))) {
			// lone surrogates or NUL: give the bytes (WTF-8, as the C side keeps them) in hex
			rec.out = null;
			rec.out_hex = wtf8Hex(out);
		}
		lines.push(JSON.stringify(rec));
	}
});
fs.writeFileSync(path.join(outdir, "cases.jsonl"), lines.join("\n") + "\n");
const nsnip = templates.filter((t) => t.snippet).length;
console.log(`reference: ${templates.length - nsnip} chat templates x ${ctxs.length} conversations and ${nsnip} language snippets = ${total} cases (${renderErrors} render errors, ${parseErrors} templates fail to parse)`);
