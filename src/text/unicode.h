/* unicode.h - the small set of Unicode helpers the tokenizers need:
 * UTF-8 decoding in the two flavours the references use, GPT-2's byte-level
 * alphabet, character classes (via utf8proc) and normalisation forms. */
#ifndef INF_TEXT_UNICODE_H
#define INF_TEXT_UNICODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* llama.cpp's length of a UTF-8 sequence from its first byte (1 for
 * continuation and invalid bytes; 4 for 0xF0..0xFF). */
static inline size_t tu_len_lead(unsigned char c)
{
    static const unsigned char lookup[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
    return lookup[c >> 4];
}

/* Strict decode of one scalar value at s[0..n) (n >= 1). Returns its length
 * (1..4) and sets *cp, or 0 when s does not start with a well-formed
 * sequence (overlong, surrogate, > U+10FFFF, truncated). */
size_t tu_decode_strict(const unsigned char *s, size_t n, uint32_t *cp);

/* llama.cpp's decoder (unicode_cpt_from_utf8 + the catch in
 * unicode_cpts_from_utf8): lead-byte driven, checks only continuation bytes;
 * a bad sequence yields U+FFFD and advances one byte. Sets *adv. */
uint32_t tu_decode_llama(const unsigned char *s, size_t n, size_t *adv);

/* Encodes cp (any value < 0x200000; surrogates too, as llama.cpp does).
 * Values above U+10FFFF are written as U+FFFD. Returns bytes (1..4). */
int tu_encode(uint32_t cp, char *out);

/* Rewrites in[0..n) as valid UTF-8 into out (capacity >= 3*n), replacing
 * each maximal invalid subpart with U+FFFD (WHATWG / Rust from_utf8_lossy).
 * Returns the output length. */
size_t tu_sanitize_lossy(const char *in, size_t n, char *out);
/* Whether in[0..n) is well-formed UTF-8. */
bool tu_is_valid(const char *in, size_t n);

/* llama.cpp flavour: decode with tu_decode_llama and re-encode (invalid
 * bytes -> U+FFFD; surrogates kept as 3-byte sequences). out >= 3*n. */
size_t tu_sanitize_llama(const char *in, size_t n, char *out);

/* GPT-2 byte-level alphabet: byte -> code point, and back (-1 if none). */
uint32_t tu_byte_to_cp(unsigned char b);
int tu_cp_to_byte(uint32_t cp);
/* UTF-8 of tu_byte_to_cp(b): *len bytes (1 or 2). */
const char *tu_byte_to_utf8(unsigned char b, int *len);

/* Character classes. */
enum {
    TU_CAT_L = 1 << 0, /* letter */
    TU_CAT_M = 1 << 1, /* mark */
    TU_CAT_N = 1 << 2, /* number */
    TU_CAT_P = 1 << 3, /* punctuation */
    TU_CAT_S = 1 << 4, /* symbol */
    TU_CAT_Z = 1 << 5, /* separator */
    TU_CAT_C = 1 << 6, /* other (control, format, unassigned, ...) */
    TU_WS    = 1 << 7, /* White_Space property (Rust char::is_whitespace) */
};
unsigned tu_flags(uint32_t cp);
bool tu_is_whitespace(uint32_t cp);
bool tu_is_control(uint32_t cp);   /* Cc */
bool tu_is_mn(uint32_t cp);        /* nonspacing mark */
bool tu_is_numeric(uint32_t cp);   /* Rust char::is_numeric: Nd Nl No */
bool tu_is_word(uint32_t cp);      /* regex \w: alphabetic, M, Nd, Pc, join controls */
uint32_t tu_tolower(uint32_t cp);

/* Normalisation of valid UTF-8. form: 'C' NFC, 'D' NFD, 'K' NFKC, 'k' NFKD.
 * Returns a malloc'd buffer (length in *out_len) or NULL on failure. */
char *tu_normalize(const char *in, size_t n, int form, size_t *out_len);


/* WHATWG "maximal subpart" length of the ill-formed sequence at s (>= 1). */
size_t tu_invalid_len(const unsigned char *s, size_t n);
/* Whether s[0..n) (n >= 1) is a proper prefix of some well-formed sequence
 * (an incomplete character that more bytes could complete). */
bool tu_is_incomplete(const unsigned char *s, size_t n);

#endif
