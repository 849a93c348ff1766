/* tokenizer_json_scan.h - the fast path for the two big members of a
 * tokenizer.json, model.vocab and model.merges. cJSON spends most of a
 * 150k-vocabulary load in malloc/free for ~600k nodes; instead a small
 * structural scanner finds those two members and decodes them directly,
 * and cJSON is handed a copy of the text with them blanked out ({} / []). */
#ifndef INF_TEXT_TOKENIZER_JSON_SCAN_H
#define INF_TEXT_TOKENIZER_JSON_SCAN_H

#include "text/tokenizer_impl.h"

#include <stddef.h>
#include <stdint.h>

/* One vocab entry: its id and its decoded text at vbuf + off. */
struct vent { int32_t id; uint32_t off, len; };

/* Where the two members lie in the text (NULL when absent) and what they
 * decoded to; bad says why find_big failed (1 vocab, 2 merges, else JSON). */
struct big_spans { const char *vocab, *vocab_end, *merges, *merges_end;
                   struct vent *ve; size_t nv; char *vbuf; int32_t max_id;
                   struct tok_merge_src *ms; size_t nm; char *mbuf; int bad; };

/* Finds and decodes root.model.vocab and root.model.merges of json. 0, or
 * -1 with sp->bad set; the caller frees sp's four buffers either way. */
int find_big(const char *json, size_t len, struct big_spans *sp);

#endif
