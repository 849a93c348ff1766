/* jinja.h - a Jinja template interpreter for chat templates.
 *
 * The language and its output follow @huggingface/jinja (the JavaScript
 * implementation that transformers.js and the Hugging Face Hub use to render
 * chat templates) byte for byte, including where that implementation differs
 * from Python's Jinja2: how numbers, booleans, none, lists and dicts print,
 * which filters/tests/methods exist, JavaScript-style loose `==`, and which
 * constructs are errors. The template is preprocessed the same way
 * (lstrip_blocks and trim_blocks on, one trailing newline dropped,
 * transformers' {% generation %} tags removed).
 *
 * Parse once, render many: a parsed template is immutable and may be rendered
 * from several threads at once, with the same or different contexts (a
 * context is only read during a render).
 *
 * This header depends on nothing else in libinference; the module needs
 * cJSON (for jinja_value_from_json) and the C library only.
 */
#ifndef INF_TEXT_JINJA_H
#define INF_TEXT_JINJA_H

#include "base/error.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Limits that bound what a (possibly hostile) template can make a render do.
 * A field left 0 takes its default. When a limit is hit the render fails and
 * the error text names the limit. */
struct jinja_options {
    size_t max_output_bytes;          /* longest output, and longest string value: default 64 MiB */
    size_t max_memory_bytes;          /* bytes one render may allocate in all: default 512 MiB */
    unsigned long max_loop_iterations;/* for-loop iterations (and range() items) per render: default 1,000,000 */
    unsigned max_depth;               /* evaluation nesting, incl. macro recursion: default 1000;
                                         the parser also rejects templates nested deeper than this.
                                         The default needs up to ~300 KiB of C stack: lower it for
                                         threads with small stacks */
    long long now;                    /* the time strftime_now() formats, in Unix seconds; 0: the current time */
    int now_utc;                      /* strftime_now() uses UTC when nonzero, else local time (as JavaScript does) */
};

#define JINJA_DEFAULT_MAX_OUTPUT_BYTES ((size_t)64 << 20)
#define JINJA_DEFAULT_MAX_MEMORY_BYTES ((size_t)512 << 20)
#define JINJA_DEFAULT_MAX_LOOP_ITERATIONS 1000000UL
#define JINJA_DEFAULT_MAX_DEPTH 1000u

/* Fills *opts with the defaults. */
void jinja_options_init(struct jinja_options *opts);

struct jinja_template;
struct jinja_value;

/* Parses src[0..len). opts may be NULL (defaults). On success returns 0 and
 * sets *out; on failure returns -1 and writes a message naming the line and
 * column ("syntax error at line L, column C: ...") into err (if err_size > 0). */
int jinja_parse(const char *src, size_t len, const struct jinja_options *opts,
                struct jinja_template **out, inf_error *err);

void jinja_template_free(struct jinja_template *tmpl);

/* Renders with the variables of context, which must be a dict (or NULL for
 * none). On success returns 0, *out is a NUL-terminated malloc'd string
 * (free() it) and *out_len (if out_len is not NULL) its length. On failure
 * returns -1, *out is NULL, and err holds the reason; for raise_exception(msg)
 * the error text is exactly msg. */
int jinja_render(const struct jinja_template *tmpl, const struct jinja_value *context,
                 char **out, size_t *out_len, inf_error *err);

/* Like jinja_render, with the time for strftime_now() given for this render
 * (Unix seconds; 0 means the template's option or the current time). */
int jinja_render_at(const struct jinja_template *tmpl, const struct jinja_value *context,
                    long long now, char **out, size_t *out_len, inf_error *err);

/* --- Values, to build a render's context. --------------------------------
 * A value is owned by whoever created it until it is put into a list or dict
 * (which takes it over) or freed with jinja_value_free. */

/* Parses JSON text into a value, converted as JSON.parse would give it to
 * @huggingface/jinja: numbers with no fractional part are integers, objects
 * keep their key order (integer-like keys first, as JavaScript orders them).
 * Returns NULL on a parse error (message in err). */
struct jinja_value *jinja_value_from_json(const char *json, size_t len, inf_error *err);

struct cJSON;
/* Converts a cJSON tree (not taken over). NULL on allocation failure. */
struct jinja_value *jinja_value_from_cjson(const struct cJSON *item);

struct jinja_value *jinja_value_none(void);
struct jinja_value *jinja_value_bool(int b);
struct jinja_value *jinja_value_int(long long i);
struct jinja_value *jinja_value_float(double d);
struct jinja_value *jinja_value_string(const char *s, size_t len);
struct jinja_value *jinja_value_list(void);
struct jinja_value *jinja_value_dict(void);

/* Both take over item (also on failure). Return 0, or -1 if the container is
 * of the wrong kind or memory ran out. Setting an existing key replaces its
 * value in place. */
int jinja_value_list_append(struct jinja_value *list, struct jinja_value *item);
int jinja_value_dict_set(struct jinja_value *dict, const char *key, struct jinja_value *item);

/* Looks up a key of a dict value (NULL when absent or not a dict). The
 * result is owned by the dict. */
const struct jinja_value *jinja_value_dict_get(const struct jinja_value *dict, const char *key);

void jinja_value_free(struct jinja_value *v);

#ifdef __cplusplus
}
#endif

#endif
