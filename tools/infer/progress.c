/* progress.c - progress bars on stderr, drawn only when stderr is a
 * terminal (nothing at all on a pipe or file): a bar with count, rate and
 * ETA for known amounts of work (classify, batch), and a thread-drawn
 * spinner with elapsed time for work of unknown length (model loading). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define BAR_WIDTH 30

double cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void format_duration(double s, char *buf, size_t size)
{
    if (s < 0 || s > 359999)
        snprintf(buf, size, "--:--");
    else if (s >= 3600)
        snprintf(buf, size, "%d:%02d:%02d", (int)s / 3600, ((int)s / 60) % 60, (int)s % 60);
    else
        snprintf(buf, size, "%d:%02d", (int)s / 60, (int)s % 60);
}

static void progress_draw(cli_progress *p, double now)
{
    double elapsed = now - p->start;
    double rate = elapsed > 0 ? p->done / elapsed : 0;
    size_t filled = p->total ? p->done * BAR_WIDTH / p->total : 0;
    char bar[BAR_WIDTH + 1], eta[32];
    for (size_t i = 0; i < BAR_WIDTH; i++)
        bar[i] = i < filled ? '#' : '.';
    bar[BAR_WIDTH] = '\0';
    format_duration(rate > 0 ? (p->total - p->done) / rate : -1, eta, sizeof eta);
    fprintf(stderr, "\r\033[K%s [%s] %zu/%zu  %.1f/s  ETA %s", p->label, bar, p->done, p->total, rate, eta);
    fflush(stderr);
    p->last_draw = now;
}

void progress_start(cli_progress *p, const char *label, size_t total)
{
    memset(p, 0, sizeof *p);
    p->label = label;
    p->total = total;
    p->start = cli_now();
    p->enabled = isatty(STDERR_FILENO) && total > 0;
    if (p->enabled)
        progress_draw(p, p->start);
}

void progress_update(cli_progress *p, size_t done)
{
    p->done = done > p->total ? p->total : done;
    if (!p->enabled)
        return;
    double now = cli_now();
    if (now - p->last_draw >= 0.1 || p->done == p->total)
        progress_draw(p, now);
}

void progress_finish(cli_progress *p)
{
    if (!p->enabled)
        return;
    progress_draw(p, cli_now());
    fputs("\r\033[K", stderr);
    fflush(stderr);
}

/* ---- spinner ---- */

struct cli_spinner {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool stop;
    char label[256];
};

static void *spinner_main(void *arg)
{
    cli_spinner *s = arg;
    static const char frames[] = "|/-\\";
    double start = cli_now();
    int frame = 0;
    pthread_mutex_lock(&s->lock);
    while (!s->stop) {
        double elapsed = cli_now() - start;
        /* Quick loads finish without ever drawing. */
        if (elapsed >= 0.3) {
            fprintf(stderr, "\r\033[K%s %c %.1fs", s->label, frames[frame++ % 4], elapsed);
            fflush(stderr);
        }
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 100 * 1000 * 1000;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&s->cond, &s->lock, &until);
    }
    pthread_mutex_unlock(&s->lock);
    fputs("\r\033[K", stderr);
    fflush(stderr);
    return NULL;
}

cli_spinner *spinner_start(const char *label)
{
    if (!isatty(STDERR_FILENO))
        return NULL;
    cli_spinner *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    snprintf(s->label, sizeof s->label, "%s", label);
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    if (pthread_create(&s->thread, NULL, spinner_main, s) != 0) {
        pthread_mutex_destroy(&s->lock);
        pthread_cond_destroy(&s->cond);
        free(s);
        return NULL;
    }
    return s;
}

void spinner_stop(cli_spinner *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    s->stop = true;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->thread, NULL);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->cond);
    free(s);
}
