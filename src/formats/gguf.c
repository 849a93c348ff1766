/* gguf.c - validating, memory-mapped GGUF v2/v3 reader (see gguf.h). */
#include "formats/gguf.h"
#include "formats/gguf_internal.h"
#include "base/str.h"

#include "tensor/tensor_types.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>


const char *gguf_type_name(enum gguf_type t)
{
    static const char *const names[GGUF_TYPE_COUNT] = {
        "uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "bool",
        "string", "array", "uint64", "int64", "float64",
    };
    return (unsigned)t < GGUF_TYPE_COUNT ? names[t] : "unknown";
}

const char *gguf_strerror(int rc)
{
    switch (rc) {
    case GGUF_OK: return "ok";
    case GGUF_ERR_NOT_FOUND: return "not found";
    case GGUF_ERR_TYPE: return "wrong type";
    case GGUF_ERR_RANGE: return "out of range";
    default: return "unknown error";
    }
}

/* ---- error helpers ---- */

struct ctx {
    const char *name;
    const uint8_t *base;
    uint64_t size;
    uint64_t pos;
    inf_error *err;
};

/* "NAME: message" with the failure's status; returns -1. */
static int fail(struct ctx *c, inf_status status, const char *fmt, ...) INF_PRINTF(3, 4);
static int fail(struct ctx *c, inf_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    err_vfail(c->err, status, fmt, ap);
    va_end(ap);
    err_prefix(c->err, "%s", c->name);
    return -1;
}

/* A printable, bounded rendering of an untrusted name for messages. */
static const char *show(const char *s, size_t len, char *buf, size_t bufsz)
{
    size_t o = 0; /* bufsz >= 16 */
    for (size_t i = 0; i < len; i++) {
        if (o + 8 >= bufsz) {
            memcpy(buf + o, "...", 3);
            o += 3;
            break;
        }
        unsigned char ch = (unsigned char)s[i];
        if (ch >= 0x20 && ch < 0x7f && ch != '\'') buf[o++] = (char)ch;
        else o += (size_t)snprintf(buf + o, bufsz - o, "\\x%02x", ch);
    }
    buf[o] = 0;
    return buf;
}

static uint64_t remaining(const struct ctx *c) { return c->size - c->pos; }

static int rd_bytes(struct ctx *c, void *dst, uint64_t n)
{
    if (remaining(c) < n) return -1;
    memcpy(dst, c->base + c->pos, (size_t)n);
    c->pos += n;
    return 0;
}

static int rd_u32(struct ctx *c, uint32_t *v) { return rd_bytes(c, v, 4); }
static int rd_u64(struct ctx *c, uint64_t *v) { return rd_bytes(c, v, 8); }

/* A length-prefixed string: returns a view into the buffer. */
static int rd_str(struct ctx *c, const char **s, uint64_t *len)
{
    uint64_t n;
    if (rd_u64(c, &n)) return -1;
    *len = n;
    if (n > remaining(c)) return -2;
    *s = (const char *)(c->base + c->pos);
    c->pos += n;
    return 0;
}

/* ---- sorting for lookups ---- */

/* Bottom-up merge sort of indices by key / tensor name (thread-safe). */
static void sort_keys(struct gguf_file *f, int64_t *idx, int64_t *tmp, int64_t n, int tensors)
{
    for (int64_t i = 0; i < n; i++) idx[i] = i;
    for (int64_t w = 1; w < n; w *= 2) {
        for (int64_t lo = 0; lo < n; lo += 2 * w) {
            int64_t mid = lo + w < n ? lo + w : n;
            int64_t hi = lo + 2 * w < n ? lo + 2 * w : n;
            int64_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) {
                const char *a = tensors ? f->tensors[idx[i]].name : f->kv[idx[i]].key;
                const char *b = tensors ? f->tensors[idx[j]].name : f->kv[idx[j]].key;
                tmp[k++] = strcmp(b, a) < 0 ? idx[j++] : idx[i++];
            }
            while (i < mid) tmp[k++] = idx[i++];
            while (j < hi) tmp[k++] = idx[j++];
        }
        memcpy(idx, tmp, (size_t)n * sizeof *idx);
    }
}

int64_t gguf_bsearch_name(const struct gguf_file *f, const int64_t *idx, int64_t n, const char *name, int tensors)
{
    int64_t lo = 0, hi = n;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        const char *s = tensors ? f->tensors[idx[mid]].name : f->kv[idx[mid]].key;
        int c = strcmp(s, name);
        if (c == 0) return idx[mid];
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return -1;
}

/* ---- parsing ---- */

static void free_tables(struct gguf_file *f)
{
    if (f->kv) {
        for (int64_t i = 0; i < f->n_kv; i++) {
            free(f->kv[i].key);
            free(f->kv[i].str);
            free(f->kv[i].str_offsets);
        }
    }
    free(f->kv);
    free(f->kv_sorted);
    if (f->tensors)
        for (int64_t i = 0; i < f->n_tensors; i++) free((char *)f->tensors[i].name);
    free(f->tensors);
    free(f->t_sorted);
    free(f->path);
}

#define MIN_KV_BYTES 13     /* key length (8) + type (4) + 1 byte of value */
#define MIN_TENSOR_BYTES 32 /* name length (8) + n_dims (4) + ne[0] (8) + type (4) + offset (8) */

static int parse_value(struct ctx *c, struct gguf_kv *kv, const char *shown)
{
    if (kv->type == GGUF_TYPE_STRING) {
        const char *s;
        uint64_t len;
        int r = rd_str(c, &s, &len);
        if (r == -1) return fail(c, INF_ERR_FORMAT, "file truncated in the string length of key '%s'", shown);
        if (r == -2) return fail(c, INF_ERR_FORMAT, "key '%s': string length %" PRIu64 " exceeds the %" PRIu64 " bytes left in the file",
                                 shown, len, remaining(c));
        kv->str = str_ndup(s, (size_t)len);
        if (!kv->str) return fail(c, INF_ERR_NO_MEMORY, "out of memory");
        kv->str_len = len;
        return 0;
    }
    if (kv->type != GGUF_TYPE_ARRAY) {
        size_t sz = gguf_type_sizes[kv->type];
        if (remaining(c) < sz) return fail(c, INF_ERR_FORMAT, "file truncated in the value of key '%s'", shown);
        kv->raw = c->base + c->pos;
        c->pos += sz;
        if (kv->type == GGUF_TYPE_BOOL && kv->raw[0] > 1)
            return fail(c, INF_ERR_FORMAT, "key '%s': invalid bool value %u", shown, kv->raw[0]);
        return 0;
    }
    uint32_t at;
    uint64_t n;
    if (rd_u32(c, &at)) return fail(c, INF_ERR_FORMAT, "file truncated in the array type of key '%s'", shown);
    if (at == GGUF_TYPE_ARRAY) return fail(c, INF_ERR_UNSUPPORTED, "key '%s': nested arrays are not supported", shown);
    if (at >= GGUF_TYPE_COUNT) return fail(c, INF_ERR_FORMAT, "key '%s': unknown array element type %" PRIu32, shown, at);
    if (rd_u64(c, &n)) return fail(c, INF_ERR_FORMAT, "file truncated in the array length of key '%s'", shown);
    kv->arr_type = (enum gguf_type)at;
    kv->arr_n = n;
    kv->arr_data = c->base + c->pos;
    if (at == GGUF_TYPE_STRING) {
        if (n > remaining(c) / 8)
            return fail(c, INF_ERR_FORMAT, "key '%s': array of %" PRIu64 " strings cannot fit in the %" PRIu64 " bytes left in the file",
                        shown, n, remaining(c));
        kv->str_offsets = malloc((size_t)(n ? n : 1) * sizeof *kv->str_offsets);
        if (!kv->str_offsets) return fail(c, INF_ERR_NO_MEMORY, "out of memory");
        uint64_t start = c->pos;
        for (uint64_t i = 0; i < n; i++) {
            kv->str_offsets[i] = c->pos - start;
            const char *s;
            uint64_t len;
            int r = rd_str(c, &s, &len);
            if (r == -1) return fail(c, INF_ERR_FORMAT, "file truncated in string %" PRIu64 " of %" PRIu64 " of array '%s'", i, n, shown);
            if (r == -2) return fail(c, INF_ERR_FORMAT, "array '%s': string %" PRIu64 " is longer than the rest of the file", shown, i);
        }
        return 0;
    }
    size_t es = gguf_type_sizes[at];
    if (n > remaining(c) / es)
        return fail(c, INF_ERR_FORMAT, "key '%s': array of %" PRIu64 " %s values (%zu bytes each) extends past end of file (%" PRIu64 " bytes left)",
                    shown, n, gguf_type_name((enum gguf_type)at), es, remaining(c));
    c->pos += n * es;
    return 0;
}

/* value of a scalar integer kv as int64/uint64, with a sign flag */
int gguf_kv_int(const struct gguf_kv *kv, int64_t *si, uint64_t *ui, int *is_neg)
{
    const uint8_t *p = kv->raw;
    int64_t s = 0;
    uint64_t u = 0;
    int neg = 0;
    switch (kv->type) {
    case GGUF_TYPE_UINT8: u = p[0]; break;
    case GGUF_TYPE_BOOL: u = p[0] ? 1 : 0; break;
    case GGUF_TYPE_INT8: { int8_t v; memcpy(&v, p, 1); s = v; neg = 1; break; }
    case GGUF_TYPE_UINT16: { uint16_t v; memcpy(&v, p, 2); u = v; break; }
    case GGUF_TYPE_INT16: { int16_t v; memcpy(&v, p, 2); s = v; neg = 1; break; }
    case GGUF_TYPE_UINT32: { uint32_t v; memcpy(&v, p, 4); u = v; break; }
    case GGUF_TYPE_INT32: { int32_t v; memcpy(&v, p, 4); s = v; neg = 1; break; }
    case GGUF_TYPE_UINT64: memcpy(&u, p, 8); break;
    case GGUF_TYPE_INT64: memcpy(&s, p, 8); neg = 1; break;
    default: return GGUF_ERR_TYPE;
    }
    if (neg) {
        if (s < 0) { *is_neg = 1; *si = s; *ui = 0; return GGUF_OK; }
        u = (uint64_t)s;
    }
    *is_neg = 0;
    *ui = u;
    *si = u > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)u;
    return GGUF_OK;
}

static int cmp_tensor_offset(const void *a, const void *b)
{
    const struct gguf_tensor *x = *(const struct gguf_tensor *const *)a;
    const struct gguf_tensor *y = *(const struct gguf_tensor *const *)b;
    return (x->offset > y->offset) - (x->offset < y->offset);
}

/* No two tensors may share bytes (llama.cpp lays them out one after
 * another): overlapping tensors mean a corrupt or crafted file, where a
 * write through one tensor's buffer would change another. Empty tensors
 * take no bytes and are ignored. */
static int check_overlaps(struct gguf_file *f, struct ctx *c)
{
    if (f->n_tensors < 2) return 0;
    const struct gguf_tensor **by_off = malloc((size_t)f->n_tensors * sizeof *by_off);
    if (!by_off) return fail(c, INF_ERR_NO_MEMORY, "out of memory");
    for (int64_t i = 0; i < f->n_tensors; i++) by_off[i] = &f->tensors[i];
    qsort(by_off, (size_t)f->n_tensors, sizeof *by_off, cmp_tensor_offset);
    const struct gguf_tensor *prev = NULL;
    for (int64_t i = 0; i < f->n_tensors; i++) {
        const struct gguf_tensor *t = by_off[i];
        if (t->size == 0) continue;
        if (prev && t->offset < prev->offset + prev->size) {
            char a[96], b[96];
            show(t->name, strlen(t->name), a, sizeof a);
            show(prev->name, strlen(prev->name), b, sizeof b);
            free(by_off);
            return fail(c, INF_ERR_FORMAT, "tensor '%s' (offset %" PRIu64 ", size %" PRIu64 ") overlaps tensor '%s' (offset %" PRIu64 ")",
                        a, t->file_offset, t->size, b, prev->file_offset);
        }
        if (!prev || t->offset + t->size > prev->offset + prev->size) prev = t;
    }
    free(by_off);
    return 0;
}

/* Magic, version and the two counts, checked against what the file can
 * hold before anything is allocated; then the tables. */
static int parse_header(struct gguf_file *f, struct ctx *c, uint64_t *n_kv, uint64_t *n_tensors)
{
    if (c->size < 4) return fail(c, INF_ERR_FORMAT, "file too small to be GGUF (%" PRIu64 " bytes)", c->size);
    if (memcmp(c->base, GGUF_MAGIC, 4) != 0)
        return fail(c, INF_ERR_FORMAT, "not a GGUF file (magic is %02x %02x %02x %02x, want 'GGUF')",
                    c->base[0], c->base[1], c->base[2], c->base[3]);
    c->pos = 4;
    uint32_t version;
    if (rd_u32(c, &version)) return fail(c, INF_ERR_FORMAT, "file truncated in the header (version)");
    if (version == 1) return fail(c, INF_ERR_UNSUPPORTED, "GGUF version 1 is not supported (need 2 or 3)");
    if (version != 2 && version != 3) {
        if ((version & 0xffff) == 0 && (version >> 16) != 0)
            return fail(c, INF_ERR_FORMAT, "big-endian GGUF (version 0x%08" PRIx32 ") is not supported", version);
        return fail(c, INF_ERR_UNSUPPORTED, "unsupported GGUF version %" PRIu32 " (need 2 or 3)", version);
    }
    f->version = version;
    if (rd_u64(c, n_tensors)) return fail(c, INF_ERR_FORMAT, "file truncated in the header (tensor count)");
    if (rd_u64(c, n_kv)) return fail(c, INF_ERR_FORMAT, "file truncated in the header (metadata count)");
    if (*n_kv > remaining(c) / MIN_KV_BYTES)
        return fail(c, INF_ERR_FORMAT, "metadata count %" PRIu64 " is impossible: the %" PRIu64 " bytes after the header hold at most %" PRIu64
                    " (file truncated or corrupt)", *n_kv, remaining(c), remaining(c) / MIN_KV_BYTES);
    if (*n_tensors > remaining(c) / MIN_TENSOR_BYTES)
        return fail(c, INF_ERR_FORMAT, "tensor count %" PRIu64 " is impossible: the %" PRIu64 " bytes after the header hold at most %" PRIu64
                    " (file truncated or corrupt)", *n_tensors, remaining(c), remaining(c) / MIN_TENSOR_BYTES);
    if (*n_kv * MIN_KV_BYTES + *n_tensors * MIN_TENSOR_BYTES > remaining(c))
        return fail(c, INF_ERR_FORMAT, "%" PRIu64 " metadata pairs and %" PRIu64 " tensors cannot fit in the %" PRIu64
                    " bytes after the header (file truncated or corrupt)",
                    *n_kv, *n_tensors, remaining(c));
    f->kv = calloc((size_t)(*n_kv ? *n_kv : 1), sizeof *f->kv);
    f->kv_sorted = malloc((size_t)(*n_kv ? *n_kv : 1) * sizeof *f->kv_sorted);
    f->tensors = calloc((size_t)(*n_tensors ? *n_tensors : 1), sizeof *f->tensors);
    f->t_sorted = malloc((size_t)(*n_tensors ? *n_tensors : 1) * sizeof *f->t_sorted);
    if (!f->kv || !f->kv_sorted || !f->tensors || !f->t_sorted) return fail(c, INF_ERR_NO_MEMORY, "out of memory");
    return 0;
}

/* Sorts the key (tensors 0) or tensor-name (1) index for lookups and
 * refuses a name given twice. */
static int index_names(struct gguf_file *f, struct ctx *c, int tensors)
{
    int64_t n = tensors ? f->n_tensors : f->n_kv;
    int64_t *idx = tensors ? f->t_sorted : f->kv_sorted;
    int64_t *tmp = malloc((size_t)(n ? n : 1) * sizeof *tmp);
    if (!tmp) return fail(c, INF_ERR_NO_MEMORY, "out of memory");
    sort_keys(f, idx, tmp, n, tensors);
    free(tmp);
    for (int64_t i = 1; i < n; i++) {
        const char *a = tensors ? f->tensors[idx[i]].name : f->kv[idx[i]].key;
        const char *b = tensors ? f->tensors[idx[i - 1]].name : f->kv[idx[i - 1]].key;
        if (strcmp(a, b) == 0) {
            char shown[96];
            return fail(c, INF_ERR_FORMAT, "duplicate %s '%s'", tensors ? "tensor name" : "metadata key",
                        show(a, strlen(a), shown, sizeof shown));
        }
    }
    return 0;
}

static int parse_kv(struct gguf_file *f, struct ctx *c, uint64_t i, uint64_t n_kv)
{
    struct gguf_kv *kv = &f->kv[i];
    char shown[96];
    const char *k;
    uint64_t klen;
    int r = rd_str(c, &k, &klen);
    if (r == -1) return fail(c, INF_ERR_FORMAT, "file truncated in the name of metadata key #%" PRIu64 " of %" PRIu64, i, n_kv);
    if (r == -2) return fail(c, INF_ERR_FORMAT, "metadata key #%" PRIu64 ": name length %" PRIu64 " exceeds the rest of the file", i, klen);
    if (klen == 0) return fail(c, INF_ERR_FORMAT, "metadata key #%" PRIu64 " has an empty name", i);
    if (memchr(k, 0, (size_t)klen)) return fail(c, INF_ERR_FORMAT, "metadata key #%" PRIu64 " name contains a NUL byte", i);
    kv->key = str_ndup(k, (size_t)klen);
    f->n_kv = (int64_t)i + 1;
    if (!kv->key) return fail(c, INF_ERR_NO_MEMORY, "out of memory");
    show(k, (size_t)klen, shown, sizeof shown);
    uint32_t t;
    if (rd_u32(c, &t)) return fail(c, INF_ERR_FORMAT, "file truncated in the type of key '%s'", shown);
    if (t >= GGUF_TYPE_COUNT) return fail(c, INF_ERR_FORMAT, "key '%s' has unknown value type %" PRIu32, shown, t);
    kv->type = (enum gguf_type)t;
    return parse_value(c, kv, shown);
}

/* general.alignment: a power of two up to 2^30, 32 when absent. */
static int read_alignment(struct gguf_file *f, struct ctx *c)
{
    f->alignment = GGUF_DEFAULT_ALIGNMENT;
    int64_t ai = gguf_find_key(f, "general.alignment");
    if (ai < 0) return 0;
    int64_t s;
    uint64_t u;
    int neg;
    if (gguf_kv_int(&f->kv[ai], &s, &u, &neg) != GGUF_OK)
        return fail(c, INF_ERR_FORMAT, "general.alignment has type %s, want an integer", gguf_type_name(f->kv[ai].type));
    if (neg || u == 0 || (u & (u - 1)) != 0 || u > (1u << 30))
        return fail(c, INF_ERR_FORMAT, "general.alignment %s%" PRIu64 " is not a power of two (1 .. 2^30)", neg ? "-" : "",
                    neg ? (uint64_t)-(s + 1) + 1 : u);
    f->alignment = u;
    return 0;
}

/* The byte size of tensor t from its type and shape, refusing shapes whose
 * element count or size would overflow (limit 2^62). */
static int size_tensor(struct ctx *c, struct gguf_tensor *t, const char *shown)
{
    if (!tensor_type_is_known((int)t->type))
        return fail(c, INF_ERR_FORMAT, "tensor '%s' has unknown tensor type %" PRIu32, shown, t->type);
    int64_t blck = tensor_type_block_size((int)t->type);
    if (blck <= 0)
        return fail(c, INF_ERR_FORMAT, "tensor '%s' has tensor type %s (%" PRIu32 "), which ggml no longer defines",
                    shown, tensor_type_name((int)t->type), t->type);
    uint64_t nel = 1;
    for (int d = 0; d < GGUF_MAX_DIMS; d++) {
        uint64_t v = (uint64_t)t->ne[d];
        if (v != 0 && nel > (UINT64_C(1) << 62) / v)
            return fail(c, INF_ERR_FORMAT, "tensor '%s' shape [%" PRId64 ", %" PRId64 ", %" PRId64 ", %" PRId64 "] has too many elements",
                        shown, t->ne[0], t->ne[1], t->ne[2], t->ne[3]);
        nel *= v;
    }
    if (t->ne[0] % blck != 0)
        return fail(c, INF_ERR_FORMAT, "tensor '%s' of type %s has ne[0] = %" PRId64 ", not a multiple of its block size %" PRId64,
                    shown, tensor_type_name((int)t->type), t->ne[0], blck);
    int64_t rowb = tensor_row_bytes((int)t->type, t->ne[0]);
    if (rowb < 0) return fail(c, INF_ERR_FORMAT, "tensor '%s': cannot size a row of type %s", shown, tensor_type_name((int)t->type));
    uint64_t row = (uint64_t)rowb;
    uint64_t rows = t->ne[0] ? nel / (uint64_t)t->ne[0] : 0;
    if (rows && row > (UINT64_C(1) << 62) / rows)
        return fail(c, INF_ERR_FORMAT, "tensor '%s' is too large", shown);
    t->size = t->ne[0] ? row * rows : 0;
    return 0;
}

/* One tensor info: name, dimensions, shape, type, offset. */
static int parse_tensor_info(struct gguf_file *f, struct ctx *c, uint64_t i, uint64_t n_tensors)
{
    struct gguf_tensor *t = &f->tensors[i];
    char shown[96];
    const char *nm;
    uint64_t nlen;
    int r = rd_str(c, &nm, &nlen);
    if (r == -1) return fail(c, INF_ERR_FORMAT, "file truncated in the name of tensor #%" PRIu64 " of %" PRIu64, i, n_tensors);
    if (r == -2) return fail(c, INF_ERR_FORMAT, "tensor #%" PRIu64 ": name length %" PRIu64 " exceeds the rest of the file", i, nlen);
    if (memchr(nm, 0, (size_t)nlen)) return fail(c, INF_ERR_FORMAT, "tensor #%" PRIu64 " name contains a NUL byte", i);
    t->name = str_ndup(nm, (size_t)nlen);
    f->n_tensors = (int64_t)i + 1;
    if (!t->name) return fail(c, INF_ERR_NO_MEMORY, "out of memory");
    show(nm, (size_t)nlen, shown, sizeof shown);
    uint32_t nd;
    if (rd_u32(c, &nd)) return fail(c, INF_ERR_FORMAT, "file truncated in tensor '%s' (n_dims)", shown);
    if (nd < 1 || nd > GGUF_MAX_DIMS)
        return fail(c, INF_ERR_FORMAT, "tensor '%s' has %" PRIu32 " dimensions (allowed 1..%d)", shown, nd, GGUF_MAX_DIMS);
    t->n_dims = nd;
    for (int d = 0; d < GGUF_MAX_DIMS; d++) t->ne[d] = 1;
    for (uint32_t d = 0; d < nd; d++) {
        uint64_t v;
        if (rd_u64(c, &v)) return fail(c, INF_ERR_FORMAT, "file truncated in tensor '%s' (shape)", shown);
        if (v > (uint64_t)INT64_MAX)
            return fail(c, INF_ERR_FORMAT, "tensor '%s' dimension %" PRIu32 " is negative (%" PRId64 ")", shown, d, (int64_t)v);
        t->ne[d] = (int64_t)v;
    }
    uint32_t type;
    uint64_t off;
    if (rd_u32(c, &type)) return fail(c, INF_ERR_FORMAT, "file truncated in tensor '%s' (type)", shown);
    if (rd_u64(c, &off)) return fail(c, INF_ERR_FORMAT, "file truncated in tensor '%s' (offset)", shown);
    t->type = type;
    t->offset = off;
    return size_tensor(c, t, shown);
}

/* The data section starts at the next multiple of the alignment; each
 * tensor must be aligned and lie inside the file. */
static int place_tensors(struct gguf_file *f, struct ctx *c)
{
    char shown[96];
    uint64_t a = f->alignment;
    uint64_t data = c->pos + (a - c->pos % a) % a;
    f->data_offset = data;
    if (f->n_tensors > 0 && data > c->size)
        return fail(c, INF_ERR_FORMAT, "tensor data section starts at %" PRIu64 ", past end of file (%" PRIu64 ")", data, c->size);
    for (int64_t i = 0; i < f->n_tensors; i++) {
        struct gguf_tensor *t = &f->tensors[i];
        show(t->name, strlen(t->name), shown, sizeof shown);
        if (t->offset % a != 0)
            return fail(c, INF_ERR_FORMAT, "tensor '%s' offset %" PRIu64 " is not a multiple of the alignment %" PRIu64, shown, t->offset, a);
        if (t->offset > c->size - data || t->size > c->size - data - t->offset)
            return fail(c, INF_ERR_FORMAT, "tensor '%s' extends past end of file (offset %" PRIu64 ", size %" PRIu64 ", file %" PRIu64 ")",
                        shown, t->offset > UINT64_MAX - data ? t->offset : data + t->offset, t->size, c->size);
        t->file_offset = data + t->offset;
        t->data = c->base + t->file_offset;
    }
    return 0;
}

/* The file's layout in reading order: header, metadata, tensor infos,
 * data section. */
static int parse(struct gguf_file *f, struct ctx *c)
{
    uint64_t n_kv = 0, n_tensors = 0;
    if (parse_header(f, c, &n_kv, &n_tensors)) return -1;
    for (uint64_t i = 0; i < n_kv; i++)
        if (parse_kv(f, c, i, n_kv)) return -1;
    f->n_kv = (int64_t)n_kv;
    if (index_names(f, c, 0) || read_alignment(f, c)) return -1;
    for (uint64_t i = 0; i < n_tensors; i++)
        if (parse_tensor_info(f, c, i, n_tensors)) return -1;
    if (index_names(f, c, 1) || place_tensors(f, c)) return -1;
    return check_overlaps(f, c);
}

static int open_common(struct gguf_file *f, const char *name, inf_error *err)
{
    struct ctx c = { name, f->base, f->size, 0, err };
    if (parse(f, &c)) return -1;
    return 0;
}

static void gguf_free(struct gguf_file *f)
{
    if (!f) return;
    if (f->mapped && f->base) munmap((void *)f->base, (size_t)f->size);
    free_tables(f);
    free(f);
}

int gguf_open_memory(const void *data, size_t size, const char *name,
                     struct gguf_file **out, inf_error *err)
{
    *out = NULL;
    if (!name) name = "<memory>";
    inf_error_clear(err);
    struct gguf_file *f = calloc(1, sizeof *f);
    if (!f || !(f->path = strdup(name))) {
        free(f);
        err_fail(err, INF_ERR_NO_MEMORY, "%s: out of memory", name);
        return -1;
    }
    f->base = data;
    f->size = size;
    if (!data && size) {
        gguf_free(f);
        err_fail(err, INF_ERR_FORMAT, "%s: NULL buffer", name);
        return -1;
    }
    if (open_common(f, name, err)) {
        gguf_free(f);
        return -1;
    }
    *out = f;
    return 0;
}

int gguf_open(const char *path, struct gguf_file **out, inf_error *err)
{
    *out = NULL;
    inf_error_clear(err);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        err_fail(err, errno == ENOENT ? INF_ERR_NOT_FOUND : INF_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        err_fail(err, INF_ERR_IO, "%s: cannot stat: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        err_fail(err, INF_ERR_FORMAT, "%s: not a regular file", path);
        close(fd);
        return -1;
    }
    struct gguf_file *f = calloc(1, sizeof *f);
    if (!f || !(f->path = strdup(path))) {
        free(f);
        close(fd);
        err_fail(err, INF_ERR_NO_MEMORY, "%s: out of memory", path);
        return -1;
    }
    f->size = (uint64_t)st.st_size;
    if (f->size == 0) {
        close(fd);
        gguf_free(f);
        err_fail(err, INF_ERR_FORMAT, "%s: file is empty, not a GGUF file", path);
        return -1;
    }
    void *m = mmap(NULL, (size_t)f->size, PROT_READ, MAP_PRIVATE, fd, 0);
    int saved = errno;
    close(fd);
    if (m == MAP_FAILED) {
        gguf_free(f);
        err_fail(err, INF_ERR_IO, "%s: cannot map %" PRIu64 " bytes: %s", path, (uint64_t)st.st_size, strerror(saved));
        return -1;
    }
    f->base = m;
    f->mapped = 1;
    if (open_common(f, path, err)) {
        gguf_free(f);
        return -1;
    }
    *out = f;
    return 0;
}

void gguf_close(struct gguf_file *f) { gguf_free(f); }
