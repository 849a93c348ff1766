// tok_corpus.mjs - the tokenizer test corpus shared by tok_hf_ref.mjs and
// tok_llama_ref.mjs: fixed cases (scripts, emoji/ZWJ, code, whitespace runs,
// digits, contractions, special-token text, normalisation, control bytes,
// long runs), invalid UTF-8 byte strings, and seeded random strings from a
// mixed alphabet. makeCorpus(seed) returns { cases: Buffer[], rnd, pick }.
function mulberry32(a) {
  return function () {
    a |= 0; a = (a + 0x6D2B79F5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
export function makeCorpus(seed) {
const rnd = mulberry32(Number(seed));
const pick = (arr) => arr[Math.floor(rnd() * arr.length)];

const B = (s) => Buffer.from(s, 'utf8');
const fixed = [
  '', ' ', '  ', '   ', '\t', '\n', '\n\n', '\n\n\n', '\t\n', '\r\n', ' \t \n ', '\r', '\f\v',
  'Hello world', ' Hello world', 'Hello World!', 'HELLO', 'hello   world', 'Hello, y\'all! How are you 😁 ?',
  "I'm", "I'M", "you're", "YOU'RE", "they'll", "We've", "he'd", "it's", "IT'S", "'s", "'S", "don't", "DON'T",
  "'ll", "'LL", "'Ll", "'ſ", "o'clock", "rock 'n' roll", "''", "' '", "'",
  '1', '12', '123', '1234', '12345', '123456', '1234567', '12345678', '123456789', '3333333333333',
  '3.14159', '1,000,000', '-42', '0x1F', '٣٤٥', '१२३', '①②③', '½ ¼', '²³', 'Ⅻ', '𝟙𝟚',
  '你好，世界！这是一个测试。', 'こんにちは世界、カタカナとひらがな', '안녕하세요 세계', 'مرحبا بالعالم', 'שלום עולם',
  'नमस्ते दुनिया', 'Привет, мир! Ёжик в тумане', 'สวัสดีชาวโลก ภาษาไทย', 'Γειά σου Κόσμε', 'Cửa Việt Tiếng Việt',
  'ស្វាគមន៍', 'வணக்கம் உலகம்', 'ሰላም ልዑል', 'Ελληνικά ΑΒΓ', 'İstanbul ıi', 'ΟΔΥΣΣΕΥΣ ΣΑΣ. Σ ὈΔΥΣΣΕΎΣ', 'straße STRASSE', 'Äpfel über Öl',
  '🦙', '👍🏽', '👨‍👩‍👧‍👦', '🏳️‍🌈', '🇺🇸🇯🇵', '❤️', '😀😃😄😁', '🦙🦙🦙 llama', 'a👍b', '🫠🪿',
  'def foo(x):\n    return x * 2\n', 'int main() { printf("%d\\n", 42); return 0; }',
  '<html><body class="x">Hi &amp; bye</body></html>', '{"key": [1, 2.5, null, true], "k2": "v"}',
  '    indented\n\tTabbed\n\t\tTwice', 'x==y && y!=z || !w >>= 3 <<= 4', 'SELECT * FROM t WHERE a = \'b\';',
  'https://example.com/path?q=1&x=2#frag', 'user@example.com', 'C:\\Windows\\System32', '#!/bin/sh\necho $HOME',
  ' '.repeat(10), ' '.repeat(33), '\t'.repeat(5), '\n'.repeat(10), 'a  b   c    d     e', '  leading', 'trailing  ',
  ' \n \n ', '\u00a0nbsp\u00a0x', '\u3000ideographic\u3000space', 'line\u2028sep', 'a\u200bzero\u200cwidth\u200dj',
  'x\u0085y', '\u1680ogham', 'tab\t\tthen  spaces  \n\n  end',
  '<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n', '<start_of_turn>user\nhi<end_of_turn>\n<start_of_turn>model\n',
  '<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|>', '<s>[INST] hi [/INST]</s>',
  '<｜begin▁of▁sentence｜><｜User｜>hi<｜Assistant｜>', '<think>x</think>', '<unk>', '<|endoftext|>', '<mask>',
  '<unused0>', '<bos><eos><pad>', 'a<|im_end|>b', ' <|im_start|> ', '<|im_start|', '<<|im_end|>>', '<tool_call>{}</tool_call>',
  '<|fim_prefix|>a<|fim_suffix|>b<|fim_middle|>', '<｜fim▁begin｜>x<｜fim▁hole｜>y<｜fim▁end｜>',
  'é', 'e\u0301', 'Ａｂｃ１２３', 'ﬁnance', 'Å Å', '한국어', '\u1100\u1161\u11a8', 'ñ vs n\u0303',
  '▁', '▁▁x', 'a▁b', '\u2581 \u2581',
  'HeLLo WoRLD', 'camelCaseVariableName', 'snake_case_name', 'SCREAMING_SNAKE', 'kebab-case-name',
  '\u0000', 'a\u0000b', '\u0001\u0002\u001f', '\u007f', '\u00ad', '\ufeffBOM', '\ufffd', '\uffff',
  'ied 4 ½ months', ' discards', 'Cửa Việt', ' (', '\n =', "' era", 'Hello, y\'all! How are you 😁 ?我想在apple工作1314151天～',
  '3333333', '33333333', ' 333',
  'a'.repeat(1000), 'ab '.repeat(300), '🦙'.repeat(100), '中'.repeat(200), '1'.repeat(64),
  ' \n'.repeat(50), '.'.repeat(40), '-'.repeat(80) + '\n', '=-'.repeat(30),
];
const cases = fixed.map(B);
// invalid UTF-8 byte strings
const invalid = [
  [0xff], [0x80], [0xc0, 0x80], [0xc3], [0xe2, 0x82], [0xe2, 0x82, 0x41], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80],
  [0xf0, 0x9f, 0x98], [0xf0, 0x9f, 0x98, 0x78], [0xfe, 0xfe, 0xff], [0x61, 0xff, 0x62, 0x80, 0x63], [0xe2, 0x82, 0xac],
  [0xc2, 0x20], [0xe0, 0x80, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0x20, 0xff, 0x20], [0x3c, 0x7c, 0xff, 0x7c, 0x3e],
];
for (const b of invalid) cases.push(Buffer.from(b));
// random strings from a mixed alphabet
const alpha = [
  ...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ', ...'0123456789', ...'0123456789',
  ...' '.repeat(12), '\t', '\n', '\n', '\r', ...'.,;:!?\'"()[]{}<>/\\|@#$%^&*-_+=~`', "'s", "'T", "'re", "'LL",
  ...'éèüñçßøåÆŒ', ...'中文字符测试日本語', ...'ひらがなカタカナ', ...'한국어', ...'привет', ...'مرحبا', ...'नमस्ते', ...'สวัสดี',
  '\u0301', '\u0308', '\u200d', '\u200b', '\u00a0', '\u3000', '🦙', '👍', '🏽', '👨‍👩‍👧', '🇫🇷', '❤️', '✨', '½', '²', '①', '٣',
  '<|', '|>', '<', '>', '▁', 'im_start', '<|im_start|>', '<|im_end|>', '<start_of_turn>', '<|eot_id|>', '<s>', '</s>',
  'the', ' the', 'The', 'ing', 'tion', '  ', '    ', '\n\n', '...', '--', '==', '://', 'www.',
];
for (let i = 0; i < 400; i++) {
  const n = 1 + Math.floor(rnd() * (i < 300 ? 30 : 120));
  let s = '';
  for (let k = 0; k < n; k++) s += pick(alpha);
  cases.push(B(s));
}
for (let i = 0; i < 60; i++) { // random bytes (mostly invalid UTF-8)
  const n = 1 + Math.floor(rnd() * 24);
  const b = Buffer.alloc(n);
  for (let k = 0; k < n; k++) b[k] = rnd() < 0.5 ? 0x20 + Math.floor(rnd() * 95) : Math.floor(rnd() * 256);
  cases.push(b);
}
return { cases, rnd, pick };
}
