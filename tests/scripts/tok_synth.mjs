// tok_synth.mjs - small synthetic tokenizer.json files that exercise the
// components the shipped tokenizers do not use (every Split behavior and
// invert, Metaspace schemes, Digits, Whitespace, WhitespaceSplit,
// Punctuation, BertPreTokenizer, CharDelimiterSplit, ByteLevel with prefix
// space and regex; NFKC/NFD/NFKD, Lowercase, Strip, StripAccents, Replace
// (regex), Prepend; Metaspace/Strip/Replace/ByteFallback/Fuse decoders;
// Template/Bert/Roberta post-processors; added tokens with lstrip, rstrip,
// single_word and normalized), so that they are compared with the
// reference like the real ones. writeSynth(dir) returns the created dirs.
import fs from 'node:fs';
import path from 'node:path';

function byteLevelAlphabet() {
  const bs = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const cs = bs.slice();
  let n = 0;
  for (let b = 0; b < 256; b++) if (!bs.includes(b)) { bs.push(b); cs.push(256 + n); n++; }
  const m = new Map();
  bs.forEach((b, i) => m.set(b, String.fromCodePoint(cs[i])));
  return m;
}
const BL = byteLevelAlphabet();
const bl = (s) => [...Buffer.from(s, 'utf8')].map((b) => BL.get(b)).join('');

// byte-level vocab: the 256 characters plus merges of common pieces
function byteLevelModel(extraWords) {
  const vocab = {};
  let id = 0;
  for (let b = 0; b < 256; b++) vocab[BL.get(b)] = id++;
  const merges = [];
  const add = (a, b) => {
    const m = a + b;
    if (!(a in vocab) || !(b in vocab)) return;
    if (!(m in vocab)) vocab[m] = id++;
    merges.push(a + ' ' + b);
  };
  for (const w of extraWords) {
    const chars = [...bl(w)];
    let cur = chars[0];
    for (let i = 1; i < chars.length; i++) { add(cur, chars[i]); cur += chars[i]; }
  }
  return { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
           fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges };
}

// SentencePiece-like vocab: <unk>, byte tokens, the metaspace, ASCII and merges
function spmModel(extraWords, opts = {}) {
  const vocab = { '<unk>': 0, '<s>': 1, '</s>': 2 };
  let id = 3;
  for (let b = 0; b < 256; b++) vocab['<0x' + b.toString(16).toUpperCase().padStart(2, '0') + '>'] = id++;
  vocab['▁'] = id++;
  for (let c = 0x21; c < 0x7f; c++) if (!(String.fromCharCode(c) in vocab)) vocab[String.fromCharCode(c)] = id++;
  for (const c of 'éüñßøå中文日本語') vocab[c] = id++;
  const merges = [];
  const add = (a, b) => {
    const m = a + b;
    if (!(a in vocab) || !(b in vocab)) return;
    if (!(m in vocab)) vocab[m] = id++;
    merges.push([a, b]);
  };
  for (const w of extraWords) {
    const chars = [...w];
    let cur = chars[0];
    for (let i = 1; i < chars.length; i++) { add(cur, chars[i]); cur += chars[i]; }
  }
  return { type: 'BPE', dropout: null, unk_token: opts.unk === false ? null : '<unk>', continuing_subword_prefix: null,
           end_of_word_suffix: null, fuse_unk: opts.fuse ?? true, byte_fallback: opts.byte_fallback ?? true,
           ignore_merges: opts.ignore_merges ?? false, vocab, merges };
}

const WORDS = ['the', ' the', 'he', 'in', 'ing', ' and', 'tion', '12', '123', 'Hello', ' world', 'll', "'s", '  ', '\n\n',
               'ab', 'abc', '中文', 'é'];
const SPM_WORDS = ['▁the', 'he', 'in', 'ing', '▁and', '▁▁', 'll', 'Hello', '▁world', '▁Hello', '12', 'ab', 'abc', 'é'];

function addedTokens(base) {
  const at = (content, o) => ({ id: base + o.i, content, single_word: !!o.sw, lstrip: !!o.l, rstrip: !!o.r,
                                normalized: !!o.n, special: !!o.s });
  return [
    at('<sp>', { i: 0, s: true, l: true, r: true }),
    at('<|im_start|>', { i: 1, s: true }),
    at('word', { i: 2, sw: true }),
    at('ÄÖ', { i: 3, n: true }),
    at('<tool>', { i: 4, r: true }),
    at('<eos>', { i: 5, s: true }),
  ];
}

function tokJson(model, { normalizer = null, pre = null, post = null, decoder = null, added = true }) {
  const n = Object.keys(model.vocab).length;
  return { version: '1.0', truncation: null, padding: null,
           added_tokens: added ? addedTokens(n) : [],
           normalizer, pre_tokenizer: pre, post_processor: post, decoder, model };
}

const BLPRE = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false };
const BLDEC = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false };
const seqPre = (...p) => ({ type: 'Sequence', pretokenizers: p });
const split = (pattern, behavior, invert = false) => ({ type: 'Split', pattern, behavior, invert });

export function writeSynth(dir) {
  const specs = {};
  const bm = () => byteLevelModel(WORDS);
  for (const b of ['Removed', 'Isolated', 'MergedWithPrevious', 'MergedWithNext', 'Contiguous']) {
    for (const inv of [false, true]) {
      specs[`split_${b}_${inv ? 'inv' : 'fwd'}`] = tokJson(bm(), {
        pre: seqPre(split({ Regex: '\\s+|[0-9]+|\\p{P}' }, b, inv), BLPRE), decoder: BLDEC });
    }
    specs[`splitstr_${b}`] = tokJson(bm(), { pre: seqPre(split({ String: ' ' }, b), BLPRE), decoder: BLDEC });
  }
  specs.digits_each = tokJson(bm(), { pre: seqPre({ type: 'Digits', individual_digits: true }, BLPRE), decoder: BLDEC });
  specs.digits_runs = tokJson(bm(), { pre: seqPre({ type: 'Digits', individual_digits: false }, BLPRE), decoder: BLDEC });
  specs.whitespace = tokJson(bm(), { pre: seqPre({ type: 'Whitespace' }, BLPRE), decoder: BLDEC });
  specs.whitespace_split = tokJson(bm(), { pre: seqPre({ type: 'WhitespaceSplit' }, BLPRE), decoder: BLDEC });
  specs.punct_iso = tokJson(bm(), { pre: seqPre({ type: 'Punctuation', behavior: 'Isolated' }, BLPRE), decoder: BLDEC });
  specs.punct_next = tokJson(bm(), { pre: seqPre({ type: 'Punctuation', behavior: 'MergedWithNext' }, BLPRE), decoder: BLDEC });
  specs.bert_pre = tokJson(bm(), { pre: seqPre({ type: 'BertPreTokenizer' }, BLPRE), decoder: BLDEC });
  specs.chardelim = tokJson(bm(), { pre: seqPre({ type: 'CharDelimiterSplit', delimiter: 'e' }, BLPRE), decoder: BLDEC });
  specs.bytelevel_gpt2 = tokJson(bm(), {
    pre: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    post: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true } });
  specs.norm_nfkc_lower = tokJson(bm(), {
    normalizer: { type: 'Sequence', normalizers: [{ type: 'NFKC' }, { type: 'Lowercase' }] },
    pre: seqPre(split({ Regex: '\\s+' }, 'Isolated'), BLPRE), decoder: BLDEC });
  specs.norm_nfd_strip = tokJson(bm(), {
    normalizer: { type: 'Sequence', normalizers: [{ type: 'NFD' }, { type: 'StripAccents' }, { type: 'Strip', strip_left: true, strip_right: true }] },
    pre: BLPRE, decoder: BLDEC });
  specs.norm_nfkd_replace = tokJson(bm(), {
    normalizer: { type: 'Sequence', normalizers: [{ type: 'NFKD' }, { type: 'Replace', pattern: { Regex: '[0-9]+' }, content: '#' },
                                                  { type: 'Replace', pattern: { String: 'the' }, content: 'THE' }] },
    pre: seqPre(split({ Regex: ' ' }, 'MergedWithNext'), BLPRE), decoder: BLDEC });
  const spm = (o) => spmModel(SPM_WORDS, o);
  const spmDec = { type: 'Sequence', decoders: [{ type: 'Replace', pattern: { String: '▁' }, content: ' ' },
                                                { type: 'ByteFallback' }, { type: 'Fuse' },
                                                { type: 'Strip', content: ' ', start: 1, stop: 0 }] };
  const tmpl = { type: 'TemplateProcessing',
                 single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }],
                 pair: [{ Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
                 special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] }, '</s>': { id: '</s>', ids: [2], tokens: ['</s>'] } } };
  for (const scheme of ['always', 'first', 'never']) {
    for (const sp of [true, false]) {
      specs[`metaspace_${scheme}_${sp ? 'split' : 'nosplit'}`] = tokJson(spm(), {
        pre: { type: 'Metaspace', replacement: '▁', prepend_scheme: scheme, split: sp },
        decoder: { type: 'Metaspace', replacement: '▁', prepend_scheme: scheme, split: sp }, post: tmpl });
    }
  }
  specs.spm_prepend = tokJson(spm(), {
    normalizer: { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: '▁' }, { type: 'Replace', pattern: { String: ' ' }, content: '▁' }] },
    decoder: spmDec, post: { type: 'BertProcessing', sep: ['</s>', 2], cls: ['<s>', 1] } });
  specs.spm_nofuse_nounk = tokJson(spm({ fuse: false, byte_fallback: false }), {
    normalizer: { type: 'Replace', pattern: { String: ' ' }, content: '▁' },
    pre: split({ String: '▁' }, 'MergedWithPrevious'), decoder: spmDec,
    post: { type: 'RobertaProcessing', sep: ['</s>', 2], cls: ['<s>', 1], trim_offsets: true, add_prefix_space: false } });
  specs.spm_nounk = tokJson(spm({ unk: false, byte_fallback: false, ignore_merges: true }), {
    normalizer: { type: 'Replace', pattern: { String: ' ' }, content: '▁' }, decoder: spmDec });
  const out = [];
  for (const [name, j] of Object.entries(specs)) {
    const d = path.join(dir, name);
    fs.mkdirSync(d, { recursive: true });
    fs.writeFileSync(path.join(d, 'tokenizer.json'), JSON.stringify(j));
    out.push(d);
  }
  return out;
}
