// Small templates that exercise the language one construct at a time (and in
// combination), for the differential test against @huggingface/jinja: every
// operator on every pair of value kinds, every filter and test on every value
// kind, methods, member access and slices, statements, whitespace control.
// Used by test_chat_jinja_reference.mjs; each snippet is rendered with SNIPPET_CONTEXT.

export const SNIPPET_CONTEXT = {
	messages: [
		{ role: "system", content: "sys" },
		{ role: "user", content: "Hello World" },
		{ role: "assistant", content: "hi", tool_calls: [{ function: { name: "f", arguments: { b: 2, a: 1 } } }] },
	],
	d: { b: 2, a: 1, C: [1, 2], "10": "ten", "2": "two", _x: null, "key with space": true },
	s: "  Hello, Wörld! ß ǅ 👋 ",
	e: "",
	n: 7,
	f: 2.5,
	z: 0,
	big: 12345678901234567890,
	neg: -3,
	l: [3, 1, 2],
	ls: ["b", "A", "c", "a"],
	objs: [
		{ name: "x", v: 2, t: { p: 1 } },
		{ name: "y", v: 1, t: { p: 3 } },
		{ name: "z", v: 3, flag: true },
	],
	mixed: [1, "a", null, true, 2.5, [1], { k: "v" }],
	nul: null,
	t: true,
	fl: false,
	bos_token: "<s>",
	eos_token: "</s>",
	add_generation_prompt: true,
};

const V = [
	"1", "-1", "0", "2.5", "-0.0", "3.0", "1.25", "7", "n", "f", "z", "big", "neg",
	"'abc'", "''", "'3'", "' 4 '", "'1.5e2'", "s", "e", "'Ab Cd'", "'x\\ny'",
	"[]", "[1, 2]", "l", "ls", "mixed", "(1, 2)", "{}", "d", "messages[1]", "objs",
	"none", "true", "false", "nul", "undefined_var", "namespace(a=1)", "loop",
];
const SMALLV = ["1", "2.5", "0", "-0.0", "'ab'", "''", "'2'", "[1]", "[]", "d", "{}", "none", "true", "false", "undefined_var", "(1,)", "'a'", "ls"];
const OPS = ["+", "-", "*", "/", "//", "%", "**", "~", "==", "!=", "<", ">", "<=", ">=", "in", "not in", "and", "or"];
const FILTERS = [
	"safe", "tojson", "list", "first", "last", "length", "count", "reverse", "sort", "join", "string", "unique",
	"upper", "lower", "title", "capitalize", "trim", "indent", "int", "float", "abs", "items", "keys", "values",
	"dictsort", "bool", "default", "d", "round", "e", "escape", "wordcount", "min", "max", "sum", "batch", "select",
	"map", "replace", "center", "striptags", "urlencode", "xmlattr", "pprint", "random", "format", "get",
];
const TESTS = [
	"defined", "undefined", "none", "string", "number", "integer", "float", "mapping", "iterable", "sequence",
	"boolean", "true", "false", "odd", "even", "callable", "lower", "upper", "equalto", "eq", "sameas", "divisibleby",
];

export function snippets() {
	const out = [];
	const add = (name, src) => out.push({ name: `snippet/${name}`, source: src });
	for (const v of V) add(`print ${v}`, `{{ ${v} }}`);
	for (const v of V) add(`not/neg ${v}`, `{{ not ${v} }}|{{ -${v} }}`);
	for (const op of OPS)
		for (const a of SMALLV)
			for (const b of SMALLV) {
				// known difference: V8 computes non-integer powers with fdlibm, we with the C library
				if (op === "**" && a === "2.5" && b === "2.5") continue;
				add(`op ${a} ${op} ${b}`, `{{ ${a} ${op} ${b} }}`);
			}
	for (const f of FILTERS) for (const v of V) add(`filter ${v}|${f}`, `{{ ${v}|${f} }}`);
	for (const t of TESTS) for (const v of V) add(`test ${v} is ${t}`, `{{ ${v} is ${t} }}|{{ ${v} is not ${t} }}`);
	const calls = [
		"ls|join(', ')", "l|join('-')", "s|join('.')", "mixed|join(',')", "[1, none, 'x', [2, 3]]|join", "ls|join(separator='+')",
		"undefined_var|default('dflt')", "none|default('dflt')", "''|default('dflt')", "''|default('dflt', true)", "0|default(1, boolean=true)",
		"'x'|default('y', 'notbool')", "undefined_var|default", "[]|default('e', true)", "undefined_var|default()",
		"d|tojson(indent=2)", "d|tojson(indent=0)", "messages|tojson(indent=4)", "d|tojson(sort_keys=true)", "ls|tojson(separators=(',', ':'))",
		"s|tojson(ensure_ascii=true)", "{'k': s}|tojson(ensure_ascii=false)", "d|tojson(indent='2')", "[[]]|tojson(indent=2)", "[{}, []]|tojson(indent=1)",
		"{'b': 1, 'a': {'d': 2, 'c': 3}, '_': 0, 'B': 4, '10': 5, '9': 6}|tojson(sort_keys=true)", "d|tojson(separators=[',', '='], indent=2)",
		"'42abc'|int", "'abc'|int", "'abc'|int(7)", "'3.9'|int", "' -12 '|int", "'1e3'|float", "'abc'|float(1.5)", "'-.5x'|float", "2.7|int", "-2.5|int", "true|int", "'0x1A'|int", "'Infinity'|float",
		"2.7|int(5)", "none|int", "l|int",
		"ls|sort", "ls|sort(reverse=true)", "ls|sort(case_sensitive=true)", "ls|sort(true, true)", "objs|sort(attribute='v')", "objs|sort(attribute='t.p')",
		"objs|sort(attribute='name', reverse=true)", "mixed|sort", "[3, 1.5, true, 2]|sort", "[[2], [1]]|sort", "['b', 'B', 'a', 'A']|sort", "[none, none]|sort",
		"objs|selectattr('flag')", "objs|rejectattr('flag')", "objs|selectattr('name', 'equalto', 'y')", "objs|selectattr('v', 'odd')", "objs|selectattr('t', 'defined')",
		"objs|rejectattr('t', 'undefined')", "objs|selectattr('name', 'nosuchtest')", "objs|selectattr(x)", "ls|selectattr('a')", "messages|selectattr('role', 'eq', 'user')|list",
		"objs|map(attribute='name')", "objs|map(attribute='t.p')", "objs|map(attribute='t.p', default='-')", "objs|map('upper')", "ls|map(attribute='x')", "messages|map(attribute='role')|join(',')",
		"s|indent", "'a\\nb\\n\\nc'|indent", "'a\\nb\\n\\nc'|indent(2)", "'a\\nb\\n\\nc'|indent(2, true)", "'a\\nb\\n\\nc'|indent(2, true, true)", "'a\\nb'|indent(width=3, first=1)", "'a\\nb'|indent('x')",
		"s|replace('l', 'L')", "s|replace('l', 'L', 1)", "s|replace('', '-')", "s|replace('l', 'L', count=2)", "'aaa'|replace('a', 'b', 0)", "'aaa'|replace('a', 'b', -1)",
		"d|dictsort", "d|dictsort(true)", "d|dictsort(by='value')", "d|dictsort(reverse=true)", "{'b': 'x', 'a': 'Y', 'c': 'y'}|dictsort(by='value')", "d|get('a')", "d|get('zz', 5)", "d|items", "d|keys|list", "d|values",
		"l|unique", "[1, 1.0, '1', true, none, none]|unique", "ls|first|upper", "[]|first", "[]|last|default('x')", "([]|first) is defined", "(1, 2, 3)|reverse", "l|length", "s|length", "'👋'|length", "d|length",
		"l|sum", "l|min", "l|batch(2)", "ls|select", "l|round", "d|length(1)", "s|upper(1)", "range(3)|join",
	];
	for (const c of calls) add(`call ${c}`, `{{ ${c} }}`);
	const methods = [
		"s.strip()", "s.lstrip()", "s.rstrip()", "s.strip('x')", "'xxhixx'.strip('x')", "s.upper()", "s.lower()", "s.title()", "'hello wORLD-foo_bar 3d'.title()", "'éa b'.title()",
		"s.capitalize()", "'ßa'.capitalize()", "'hELLO'.capitalize()", "s.startswith('  He')", "s.startswith(('x', '  H'))", "s.startswith(['x'])", "s.startswith()", "s.startswith(1)", "s.endswith(' ')", "s.endswith(('a', 'b'))",
		"s.split()", "s.split(',')", "'a,b,,c'.split(',')", "'a,b,c'.split(',', 1)", "'a b  c '.split(none, 1)", "'a b c'.split(' ', 0)", "'a,b,c'.split(',', -2)", "''.split()", "''.split(',')", "'abc'.split('')", "'a b'.split(1)", "'a,b'.split(',', 1.0)",
		"'a b c'.split(maxsplit=1)", "s.replace('l', 'L')", "s.replace('l', 'L', 1)", "s.replace('l')", "s.replace(1, 2)", "s.length", "l.length", "d.length", "s.format(1)", "ls.append(1)", "d.update({})", "ls.pop()",
		"d.get('a')", "d.get('zz')", "d.get('zz', 'dflt')", "d.get(1)", "d.get()", "d.items()", "d.keys()", "d.values()", "d.dictsort()", "d['a']", "d.a", "d['10']", "d.C[1]", "d.C.0", "d['zz']", "d.zz.yy", "d[0]",
		"l[0]", "l[-1]", "l[5]", "l[1:]", "l[:2]", "l[::-1]", "l[::2]", "l[-2:]", "l[:-1]", "l[1:2:0]", "l[5:]", "l[::-2]", "l[-1:0:-1]", "l[undefined_var:]", "l[none:]", "l['a']", "l[1.0]",
		"s[0]", "s[-1]", "s[1:4]", "s[::-1]", "'👋ab'[0]", "'👋ab'[1:]", "'👋ab'|length", "s.x", "1.x", "none.x", "undefined_var.x", "undefined_var[0]", "none[0]", "true.x", "(1, 2)[0]", "namespace(a=1).a", "namespace(a=1)['a']",
		"messages[1].content", "messages[1]['content']", "messages[-1].tool_calls[0].function.arguments", "messages[0].role.upper()", "messages|length", "loop", "range(5)", "range(2, 8, 3)", "range(5, 0, -2)", "range(0)", "range(1, 2, 0)", "range(2.5)", "range('3')",
		"namespace()", "namespace(d)", "namespace([['a', 1]])", "namespace(['ab'])", "namespace(1)", "namespace(a=1, b=[2])", "namespace(d, x=1)", "dict(a=1)", "strftime_now('%Y-%m-%d %H:%M %b %B %% %A')", "strftime_now(1)", "raise_exception('boom')",
		"{'a': 1, 'a': 2}", "{1: 2}", "{'k': undefined_var}", "[undefined_var]", "[none, true]", "(1,)", "((1, 2),)", "{'t': (1, 2)}", "1 if true", "1 if false", "1 if false else 2", "'a' 'b'", "\"q\\\"uote\\\\\"",
		"'\\x41\\u00e9\\ud83d\\ude00'", "'tab\\tnl\\n'", "2 ** 3 ** 2", "-2 ** 2", "2 ** -1", "0 ** -1", "10 / 4", "10 // 4", "-7 // 2", "-7 % 3", "7 % -3", "1 / 0", "0 / 0", "1 // 0", "5 % 0", "7.5 // 2", "2 * 3.0", "1 + 2.5 - 0.5",
		"0.1 + 0.2", "1e0", "100000000000000000000 * 10", "123456789012345678901234567890", "0.000001", "0.0000001", "1.5e300 * 1e10", "-0.0 + 0", "3.0 == 3", "'1' == 1", "'' == 0", "none == undefined_var", "[] == []", "l == l", "true == 1", "'1,2' == [1, 2]",
		"d == d", "'abc' < 'abd'", "1 < 2 < 3", "not 1 == 2", "1 in l", "'a' in 'cat'", "'a' in d", "'C' in d", "1 in d", "x in undefined_var", "undefined_var in l", "none in l", "[1] in [[1]]", "'a' not in ls",
		"1 + 'a'", "'a' + 1", "'a' ~ 1.0 ~ none", "[1] + [2]", "[1] + (2,)", "'a' * 3", "l ~ d", "true + 1", "-true", "+'a'", "not none", "not []", "not {}", "not namespace()", "1 and 2", "0 or 'x'", "none or none",
		"[none, undefined_var]|unique|length", "'x' ~ [none, 1]", "range(1, none)", "range(0, 3, none)", "range(true, 3)", "range(1, '4')", "range(1, [3])", "1 in [none]", "[none] == 'undefined'", "none == undefined_var",
		"'ΣΑΣ ΟΔΟΣ. Σ ΑΣ\u0301 Α.Σ aΣb'|lower", "'ὈΔΥΣΣΕΎΣ'|lower", "'İstanbul ǅ ǈ ß ŉ ﬃ'|upper", "'İstanbul ǅ ǈ ẞ'|lower", "'ǆemal'|capitalize", "'ǆemal'.title()",
		"' \u00a0\u2003x\u3000 '|trim", "'\u00a0a\u2009b\u200bc'.split()", "'\ufeffx\ufeff'.strip()", "'\u0085x'.strip()", "'a\u2028b'|indent(2, true)",
		"'😀😁😂'[1]", "'😀😁😂'[-1]", "'😀😁😂'|length", "'a😀b'[1:2]", "'😀'|capitalize", "'x'|tojson(ensure_ascii=true) ~ '😀\u007f\u0080'|tojson(ensure_ascii=true)", "'\\u0000\\u001f\\u007f'|tojson", "'a\\u0000b'",
		"[none]|join('-')", "[none]|string", "[none]|tojson", "{'a': none}", "range(3, 0)", "range(-2)", "range(0, 1, 0.25)",
		"messages[1].content is string and messages[1].content|length > 3", "(messages|selectattr('role', 'equalto', 'user')|list|length) * 2",
	];
	for (const m of methods) add(`expr ${m}`, `{{ ${m} }}`);
	const stmts = {
		for_basic: "{% for x in l %}{{ loop.index }}/{{ loop.index0 }}/{{ loop.revindex }}/{{ loop.revindex0 }}/{{ loop.first }}/{{ loop.last }}/{{ loop.length }}/{{ loop.previtem }}/{{ loop.nextitem }};{% endfor %}",
		for_else: "{% for x in [] %}x{% else %}empty{% endfor %}|{% for x in l if x > 5 %}{{ x }}{% else %}none>5{% endfor %}",
		for_filter: "{% for x in l if x != 1 %}{{ x }}:{{ loop.index }}:{{ loop.last }} {% endfor %}",
		for_dict: "{% for k in d %}{{ k }},{% endfor %}|{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}|{% for k, v in d|dictsort %}{{ k }}{% endfor %}",
		for_tuple_err: "{% for a, b in [(1, 2)] %}{{ a }}{% endfor %}",
		for_unpack_err: "{% for a, b in [[1, 2, 3]] %}{{ a }}{% endfor %}",
		for_string_err: "{% for c in 'abc' %}{{ c }}{% endfor %}",
		for_none_err: "{% for c in none %}{{ c }}{% endfor %}",
		for_nested: "{% for a in [1, 2] %}{% for b in [3, 4] %}{{ a }}{{ b }}{{ loop.index }}{% endfor %}{{ loop.index }}|{% endfor %}",
		for_break: "{% for x in [1, 2, 3, 4] %}a{{ x }}{% if x == 3 %}{% break %}{% endif %}b{% endfor %}",
		for_continue: "{% for x in [1, 2, 3] %}a{{ x }}{% if x == 2 %}{% continue %}{% endif %}b{% endfor %}",
		for_continue_all_else: "{% for x in [1, 2] %}{% continue %}{% else %}ELSE{% endfor %}",
		for_break_first_else: "{% for x in [1, 2] %}{% break %}{% else %}ELSE{% endfor %}",
		break_outside: "a{% break %}b",
		for_scope: "{% set x = 1 %}{% for i in [1] %}{% set x = 2 %}{{ x }}{% endfor %}{{ x }}",
		for_loop_outer: "{% for i in [1, 2] %}{% for j in [1] if loop.index %}{{ loop.index }}{% endfor %}{% endfor %}",
		for_loop_var_after: "{% for i in [1, 2] %}{% endfor %}{{ i }}|{{ loop }}",
		loop_dict: "{% for i in [1, 2] %}{{ loop.cycle('a', 'b') }}{% endfor %}",
		loop_print: "{% for i in ['a'] %}{{ loop }}{{ loop|length }}{{ loop.items()|length }}{% endfor %}",
		loop_depth: "{% for i in [1] %}{{ loop.depth }}|{{ loop['index'] }}{% endfor %}",
		ns: "{% set ns = namespace(found=false, items=[]) %}{% for m in messages %}{% if m.role == 'user' %}{% set ns.found = true %}{% set ns.items = ns.items + [m.content] %}{% endif %}{% endfor %}{{ ns.found }} {{ ns.items }} {{ ns }}",
		ns_err: "{% set d.x = 1 %}",
		ns_computed: "{% set ns = namespace() %}{% set ns['k'] = 1 %}{{ ns }}",
		ns_computed_ident: "{% set ns = namespace() %}{% set k = 'zz' %}{% set ns[k] = 1 %}{{ ns }}",
		set_tuple: "{% set a, b = 1, 2 %}{{ a }}{{ b }}{% set c, e = [3, 4] %}{{ c }}{{ e }}",
		set_tuple_err: "{% set a, b = 1 %}",
		set_tuple_err2: "{% set a, b = [1, 2, 3] %}",
		set_block: "{% set x %}Hello {{ 'World' }}!{% endset %}[{{ x }}]{{ x|length }}",
		set_block_trim: "{%- set x -%}\n  Hello\n{%- endset -%}\n[{{ x }}]",
		macro_basic: "{% macro greet(name, greeting='Hello') %}{{ greeting }}, {{ name }}!{% endmacro %}{{ greet('Ann') }} {{ greet('Bob', 'Hi') }} {{ greet(name='Cy', greeting='Yo') }} {{ greet() }}",
		macro_kwargs: "{% macro m(a) %}{{ a }}|{{ kwargs }}{% endmacro %}{{ m(1, b=2, c=3) }}",
		macro_varargs: "{% macro m(a) %}{{ a }}|{{ varargs }}{% endmacro %}{{ m(1, 2, 3) }}",
		macro_extra_kw_err: "{% macro m(a) %}{{ a }}{% endmacro %}{{ m(1, b=2) }}",
		macro_extra_pos_err: "{% macro m(a) %}{{ a }}{% endmacro %}{{ m(1, 2) }}",
		macro_dynamic_scope: "{% macro m() %}{{ x }}{% endmacro %}{% set x = 1 %}{{ m() }}{% for x in [5] %}{{ m() }}{% endfor %}",
		macro_default_refs: "{% macro m(a, b=a * 2) %}{{ a }}-{{ b }}{% endmacro %}{{ m(3) }}",
		macro_recursion: "{% macro fact(n) %}{% if n <= 1 %}1{% else %}{{ n * (fact(n - 1)|int) }}{% endif %}{% endmacro %}{{ fact(6) }}",
		macro_infinite: "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}",
		macro_callable: "{% macro m() %}x{% endmacro %}{{ m is callable }}{{ m is defined }}",
		macro_set_in_body: "{% macro m() %}{% set y = 5 %}{{ y }}{% endmacro %}{{ m() }}{{ y }}",
		macro_spread: "{% macro m(a, b, c=3) %}{{ a }}{{ b }}{{ c }}{% endmacro %}{{ m(*[1, 2]) }}{{ m(**{'a': 4, 'b': 5}) }}{{ m(1, *[2], c=9) }}",
		macro_dup_kw: "{% macro m(a) %}{% endmacro %}{{ m(a=1, **{'a': 2}) }}",
		macro_break_in_loop: "{% macro m() %}M{% break %}{% endmacro %}{% for x in [1, 2] %}a{{ m() }}b{% endfor %}done",
		call_block: "{% macro wrap(tag) %}<{{ tag }}>{{ caller() }}</{{ tag }}>{% endmacro %}{% call wrap('b') %}inner {{ 1 + 1 }}{% endcall %}",
		call_block_args: "{% macro each(items) %}{% for i in items %}{{ caller(i, loop.index) }}{% endfor %}{% endmacro %}{% call(item, idx) each(['x', 'y']) %}[{{ idx }}:{{ item }}]{% endcall %}",
		call_block_kw: "{% macro m(a, b=2) %}{{ a }}{{ b }}{{ caller() }}{% endmacro %}{% call m(1, b=5) %}C{% endcall %}",
		filter_block: "{% filter upper %}hello {{ 'world' }}{% endfilter %}|{% filter indent(2, true) %}a\nb{% endfilter %}|{% filter replace('a', 'o') %}banana{% endfilter %}",
		filter_block_err: "{% filter nosuch %}x{% endfilter %}",
		if_chain: "{% for v in [0, 1, 2, 3] %}{% if v == 0 %}zero{% elif v == 1 %}one{% elif v == 2 %}two{% else %}many{% endif %},{% endfor %}",
		ternary_chain: "{{ 'a' if false else 'b' if false else 'c' }}",
		comments: "a{# comment #}b{#- trimmed -#}  c {#- x #} d{# multi\nline #}e",
		ws_control: "a  {{- 'b' -}}  c\n  {%- if true -%}  d  {%- endif -%}  e",
		ws_trim_blocks: "{% if true %}\nline1\n{% endif %}\nline2\n  {% if true %}\n  indented\n  {% endif %}\n{{ 'x' }}\n{# c #}\nend\n",
		ws_lstrip_expr: "  {{ 'x' }}\n  {%- if true %}y{% endif %}\n\t{% if true %}z{% endif %}",
		ws_crlf: "{% if true %}\r\na\r\n{% endif %}\r\nb",
		trailing_newline: "text\n",
		trailing_newlines2: "text\n\n",
		generation: "{% for m in messages %}{% if m.role == 'assistant' %}{% generation %}{{ m.content }}{% endgeneration %}{% endif %}{% endfor %}|  {%- generation -%}  X  {% endgeneration %}  Y",
		raw_stmt: "{% raw %}{{ x }}{% endraw %}",
		unknown_stmt: "{% include 'x' %}",
		with_stmt: "{% with a = 1 %}{{ a }}{% endwith %}",
		unterminated_if: "{% if true %}x",
		unterminated_expr: "{{ x ",
		unterminated_string: "{{ 'abc }}",
		unterminated_comment: "{# abc",
		bad_char: "{{ a ! b }}",
		bad_escape: "{{ '\\q' }}",
		empty_expr: "{{ }}",
		elif_without_if: "{% elif x %}",
		endfor_extra: "{% endfor %}",
		dict_in_expr: "{{ {'a': {'b': 1}} }}|{{ {'a': {'b': {'c': 1}}}['a'] }}",
		neg_literals: "{{ [-1, - 1, -1.5, +2, -(3)] }}|{{ 5-1 }}|{{ 5 -1 }}|{{ l[-1] }}",
		member_int: "{{ l.0 }}|{{ messages.1.role }}",
		string_concat_adjacent: "{{ 'a' \"b\" 'c' }}",
		unicode_ws: "{{- '\u00a0x' -}}\u3000y\u2028{{- 'z' }}",
		filter_test_prec: "{{ -3|abs }}|{{ 2 * 3|string }}|{{ 'a' ~ 1 + 2 }}|{{ 3 - 1 is odd }}|{{ not 1 is odd }}",
		is_chain: "{{ 3 is odd is true }}",
		test_args: "{{ 4 is divisibleby(2) }}",
		test_equalto: "{{ 1 is equalto 1 }}",
		strftime: "{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%B %m %H:%M %Y %%Y %q') }}",
		raise: "{% if true %}{{ raise_exception('Custom error: ' ~ 42) }}{% endif %}",
		raise_nonstring: "{{ raise_exception([1, 'a']) }}",
		raise_noargs: "{{ raise_exception() }}",
		output_types: "{{ 1.0 }}|{{ 1e21 * 1.0 }}|{{ 123456789.0 * 10 }}|{{ 1/3 }}|{{ -0.0 }}|{{ 0.1 * 3 }}|{{ [1.0, 2.5] }}|{{ {'a': 1.0} }}|{{ 2 ** 64 }}|{{ 2.0 ** 70 }}|{{ 1e-7 * 1 }}",
		print_undefined: "[{{ undefined_var }}][{{ none }}][{{ undefined_var.attr }}][{{ [undefined_var] }}][{{ {'a': undefined_var} }}]",
		tojson_func: "{{ [range]|tojson }}",
		tuple_print: "{{ (1, 2) }}",
		tuple_in_list_print: "{{ [(1, 2)] }}",
		kwargs_print: "{% macro m() %}{{ kwargs }}{{ kwargs|tojson }}{% endmacro %}{{ m(a=1) }}",
		messages_loop: "{{ bos_token }}{% for m in messages %}<|{{ m.role }}|>{{ m.content | trim }}{% if not loop.last %}\n{% endif %}{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}",
		set_override_global: "{% set true = 5 %}{{ true }}{% set range = 1 %}{{ range }}{% set namespace = 2 %}{{ namespace }}{% for x in [1] %}{{ namespace is callable }}{% endfor %}",
		set_messages: "{% set messages = messages[1:] %}{{ messages|length }}",
		deep_nesting: "{{ ((((((((((1)))))))))) }}",
		long_concat: "{{ " + Array.from({ length: 200 }, (_, i) => `'${i}'`).join(" ~ ") + " }}",
		many_elifs: "{% set v = 40 %}{% if v == 0 %}0" + Array.from({ length: 60 }, (_, i) => `{% elif v == ${i + 1} %}${i + 1}`).join("") + "{% endif %}",
		tool_json: "{% for t in messages[2].tool_calls %}{{ t.function.arguments|tojson }}{{ t.function|tojson(indent=2) }}{% endfor %}",
		string_iter_join: "{{ 'abc'|join('-') }}{{ 'a👋b'|join('.') }}",
		loop_in_macro: "{% macro m() %}{{ loop.index }}{% endmacro %}{% for x in [1, 2] %}{{ m() }}{% endfor %}",
		caller_escape: "{% macro m() %}{% set ns2 = namespace(c=caller) %}{{ ns2.c() }}{% endmacro %}{% call m() %}C{% endcall %}",
		select_expr_for: "{% for m in messages if m.role != 'system' %}{{ m.role }}{{ loop.index }}{% endfor %}",
		compare_chain_in: "{{ 'a' in 'apple' == 'b' in 'banana' }}",
		not_in_precedence: "{{ not 'x' in ['x'] }}|{{ 'x' not in ['x'] }}",
		hole_ops: "{% set h = []|first %}{{ h is defined }}|{{ h is none }}",
		hole_default: "{{ ([]|first)|default('dflt') }}",
		hole_print: "{{ []|first }}",
		join_nested: "{{ [[1, [2, 3]], none, undefined_var, {'a': 1}, 1.0]|join('|') }}",
		concat_list: "{{ 'x' ~ [1, 2.0, [3]] ~ {'a': 1} ~ true }}",
		eq_list_str: "{{ [1, 2] == '1,2' }}|{{ [1.0] == '1.0' }}|{{ [] == '' }}|{{ [] == 0 }}|{{ {} == '[object Map]' }}",
		unique_identity: "{% set a = [1] %}{{ [a, a, [1]]|unique|length }}",
		dictsort_mixed_err: "{{ {'a': 1, 'b': 'x'}|dictsort(by='value') }}",
		mapping_kwargs: "{% macro m() %}{{ kwargs is mapping }}{{ kwargs.get('a') }}{{ kwargs|items }}{% endmacro %}{{ m(a=1) }}",
		varargs_unused_err: "{% macro m() %}{% set varargs = 1 %}{{ varargs }}{% endmacro %}{{ m(1) }}",
		kwargs_declared_later: "{% macro m() %}{{ kwargs }}{% set kwargs = 1 %}{% endmacro %}{{ m(a=1) }}",
		nested_macro_declares: "{% macro outer() %}{% macro inner(kwargs) %}{% endmacro %}{{ kwargs }}{% endmacro %}{{ outer(a=1) }}",
		output_limit_safe: "{% for i in range(100) %}{{ i }}{% endfor %}",
	};
	for (const [k, v] of Object.entries(stmts)) add(`stmt ${k}`, v);
	return out;
}

// Random expressions and statements (a fixed seed, so the set is the same on
// every run): combinations the hand-written snippets above do not reach.
export function randomSnippets(count = 3000, seed = 12345) {
	let st = seed >>> 0;
	const rnd = (n) => {
		st = (Math.imul(st, 1664525) + 1013904223) >>> 0;
		return st % n;
	};
	const pick = (a) => a[rnd(a.length)];
	const leaves = [
		"1", "0", "-2", "2.5", "0.5", "-0.0", "3.0", "'a'", "'Ab c'", "''", "'10'", "s", "e", "n", "f", "z", "l", "ls", "[]", "[1, 'x']",
		"d", "{}", "{'k': 1}", "messages", "messages[1]", "objs", "mixed", "none", "true", "false", "nul", "undefined_var", "(1, 2)", "t", "fl",
	];
	const filters = [
		"length", "string", "tojson", "trim", "upper", "lower", "title", "capitalize", "first", "last", "list", "reverse", "sort", "join",
		"unique", "int", "float", "abs", "items", "safe", "default('D')", "default('D', true)", "join(',')", "tojson(indent=2)",
		"tojson(sort_keys=true)", "sort(reverse=true)", "map(attribute='name')", "selectattr('role')", "selectattr('name', 'defined')",
		"replace('a', 'b')", "indent(2)", "int(9)", "float(1.5)", "dictsort", "keys", "values", "length > 1",
	];
	const tests = ["defined", "undefined", "none", "string", "number", "integer", "mapping", "iterable", "sequence", "boolean", "true", "false", "odd", "even", "callable", "lower", "upper"];
	const ops = ["+", "-", "*", "/", "//", "%", "~", "==", "!=", "<", ">", "<=", ">=", "in", "not in", "and", "or", "**"];
	const members = [".role", ".content", ".name", ".a", ".C", "[0]", "[-1]", "[1:]", "[::-1]", "['a']", ".length", ".items()", ".keys()", ".get('a')", ".get('q', 3)", ".strip()", ".split()", ".split(',')", ".upper()", ".startswith('a')", ".endswith(('a', 'c'))", ".replace('a', 'z')", "[:2]", ".title()"];
	const expr = (depth) => {
		if (depth <= 0) return pick(leaves);
		switch (rnd(10)) {
			case 0: return `not ${expr(depth - 1)}`;
			case 1: {
				const op = pick(ops);
				// integer exponents only: non-integer powers may differ in the last bit (fdlibm vs libm)
				if (op === "**") return `(${expr(depth - 1)} ** ${pick(["2", "0", "-1", "3", "n"])})`;
				return `(${expr(depth - 1)} ${op} ${expr(depth - 1)})`;
			}
			case 2: case 3: return `${expr(depth - 1)}|${pick(filters)}`;
			case 4: return `(${expr(depth - 1)} is ${rnd(2) ? "not " : ""}${pick(tests)})`;
			case 5: return `(${expr(depth - 1)})${pick(members)}`;
			case 6: return `(${expr(depth - 1)} if ${expr(depth - 1)} else ${expr(depth - 1)})`;
			case 7: return `[${expr(depth - 1)}, ${expr(depth - 1)}]`;
			case 8: return `{'k': ${expr(depth - 1)}, 'j': ${expr(depth - 1)}}`;
			default: return pick(leaves);
		}
	};
	const stmt = (depth) => {
		if (depth <= 0) return `{{ ${expr(2)} }}`;
		switch (rnd(8)) {
			case 0: return `{% if ${expr(2)} %}${stmt(depth - 1)}{% elif ${expr(1)} %}${stmt(depth - 1)}{% else %}${stmt(depth - 1)}{% endif %}`;
			case 1: return `{% for x in ${pick(["l", "ls", "messages", "objs", "d", "mixed", "[]", "range(3)", "d.items()"])}${rnd(2) ? " if x" : ""} %}{{ loop.index }}{{ x }}${stmt(depth - 1)}{% else %}E{% endfor %}`;
			case 2: return `{% set v = ${expr(2)} %}{{ v }}${stmt(depth - 1)}`;
			case 3: return `{% macro m(a, b=${expr(1)}) %}[{{ a }}|{{ b }}]${stmt(depth - 1)}{% endmacro %}{{ m(${expr(1)}) }}{{ m(1, b=${expr(1)}) }}`;
			case 4: return `{%- ${"set ns = namespace(v=" + expr(1) + ")"} -%} {% for y in [1, 2] %}{% set ns.v = ns.v ~ y %}{% endfor %} {{- ns.v }}`;
			case 5: return `  ${stmt(depth - 1)}\n  {{- ${expr(1)} }}\n`;
			case 6: return `{% filter ${pick(["upper", "trim", "lower", "indent(2)"])} %} ${stmt(depth - 1)} {% endfilter %}`;
			default: return `{{ ${expr(3)} }}`;
		}
	};
	const out = [];
	for (let i = 0; i < count; i++) out.push({ name: `random/expr${i}`, source: `{{ ${expr(1 + rnd(4))} }}` });
	for (let i = 0; i < count / 6; i++) out.push({ name: `random/stmt${i}`, source: stmt(1 + rnd(3)) });
	return out;
}
