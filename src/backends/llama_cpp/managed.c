/* managed.c - managed mode of the llama_cpp backend, as the original ROCm
 * backend did it: start `llama-server` on a GGUF file on a free loopback
 * port, wait until its /health answers 200, and stop it on Close.
 *
 * The child's output goes to a temporary log file; when it dies during
 * start-up, the error quotes the log's last line. The port is found by
 * binding port 0 and releasing it: another process could take it in between,
 * in which case llama-server fails to bind and we report its log. */
#include "backends/llama_cpp/lc_internal.h"
#include "base/error.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

struct lc_managed {
    pid_t pid;
    char log_path[64];
};

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* The binary: INFERENCE_LLAMA_SERVER, else llama-server found on PATH. */
static bool find_server_binary(char *out, size_t size)
{
    const char *env = getenv("INFERENCE_LLAMA_SERVER");
    if (env && env[0]) {
        snprintf(out, size, "%s", env);
        return access(out, X_OK) == 0;
    }
    const char *path = getenv("PATH");
    if (!path) return false;
    const char *p = path;
    while (*p) {
        const char *colon = strchr(p, ':');
        size_t n = colon ? (size_t)(colon - p) : strlen(p);
        if (n > 0 && n + 14 < size) {
            snprintf(out, size, "%.*s/llama-server", (int)n, p);
            struct stat sb;
            if (stat(out, &sb) == 0 && S_ISREG(sb.st_mode) && access(out, X_OK) == 0) return true;
        }
        p += n + (colon ? 1 : 0);
        if (!colon) break;
    }
    return false;
}

static int free_loopback_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    socklen_t len = sizeof a;
    int port = -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

/* The last non-empty line of the child's log. */
static void log_tail(const char *path, char *out, size_t size)
{
    out[0] = '\0';
    FILE *f = fopen(path, "rb");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        size_t n = strlen(line);
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = '\0';
        if (n) {
            size_t k = n < size - 1 ? n : size - 1;
            memcpy(out, line, k);
            out[k] = '\0';
        }
    }
    fclose(f);
}

void lc_managed_stop(lc_managed *mg)
{
    if (!mg) return;
    if (mg->pid > 0) {
        kill(mg->pid, SIGTERM);
        int status;
        bool gone = false;
        for (int i = 0; i < 100 && !gone; i++) { /* 5 s grace */
            pid_t r = waitpid(mg->pid, &status, WNOHANG);
            if (r == mg->pid || (r < 0 && errno == ECHILD)) gone = true;
            else sleep_ms(50);
        }
        if (!gone) {
            kill(mg->pid, SIGKILL);
            waitpid(mg->pid, &status, 0);
        }
    }
    if (mg->log_path[0]) unlink(mg->log_path);
    free(mg);
}

static pid_t spawn_server(const char *binary, char *const argv[], const char *log_path, int *spawn_errno)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    pid_t pid = -1;
    *spawn_errno = posix_spawn(&pid, binary, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    return *spawn_errno == 0 ? pid : -1;
}

/* Poll /health until 200, the child exits, or the timeout passes. */
static inf_status wait_ready(lc_managed *mg, const char *root, inf_error *err)
{
    const char *env = getenv("INFERENCE_LLAMA_SERVER_TIMEOUT");
    double timeout_s = env && atof(env) > 0 ? atof(env) : 120.0;
    int64_t deadline = lc_now_ns() + (int64_t)(timeout_s * 1e9);
    lc_model probe;
    memset(&probe, 0, sizeof probe);
    probe.root = (char *)root;
    while (lc_now_ns() < deadline) {
        int status;
        if (waitpid(mg->pid, &status, WNOHANG) == mg->pid) {
            mg->pid = -1;
            char tail[300];
            log_tail(mg->log_path, tail, sizeof tail);
            inf_error_set(err, INF_ERR_UNAVAILABLE, "llama_cpp: llama-server exited during start-up (status %d): %s",
                          WIFEXITED(status) ? WEXITSTATUS(status) : -1, tail[0] ? tail : "no output");
            return INF_ERR_UNAVAILABLE;
        }
        lc_response r;
        if (lc_http_request(&probe, "/health", NULL, 2000, NULL, &r, NULL) == INF_OK) {
            long code = r.status;
            lc_response_free(&r);
            if (code == 200) return INF_OK;
        }
        sleep_ms(100);
    }
    inf_error_set(err, INF_ERR_UNAVAILABLE, "llama_cpp: llama-server was not ready within %.0f s "
                  "(INFERENCE_LLAMA_SERVER_TIMEOUT)", timeout_s);
    return INF_ERR_UNAVAILABLE;
}

inf_status lc_managed_start(const char *gguf_path, const inf_load_config *cfg, lc_managed **out,
                            char *root, size_t root_size, inf_error *err)
{
    *out = NULL;
    char binary[4096];
    if (!find_server_binary(binary, sizeof binary)) {
        inf_error_set(err, INF_ERR_UNAVAILABLE, "llama_cpp: managed mode needs the llama-server binary on PATH "
                      "(or INFERENCE_LLAMA_SERVER), and none was found");
        return INF_ERR_UNAVAILABLE;
    }
    int port = free_loopback_port();
    if (port <= 0) {
        inf_error_set(err, INF_ERR_IO, "llama_cpp: cannot find a free loopback port: %s", strerror(errno));
        return INF_ERR_IO;
    }
    lc_managed *mg = calloc(1, sizeof *mg);
    if (!mg) { inf_error_set(err, INF_ERR_NO_MEMORY, "llama_cpp: out of memory"); return INF_ERR_NO_MEMORY; }
    mg->pid = -1;
    const char *tmp = getenv("TMPDIR");
    snprintf(mg->log_path, sizeof mg->log_path, "%s/inf-llama-server-XXXXXX", tmp && strlen(tmp) < 30 ? tmp : "/tmp");
    int fd = mkstemp(mg->log_path);
    if (fd < 0) {
        inf_error_set(err, INF_ERR_IO, "llama_cpp: cannot create a log file for llama-server: %s", strerror(errno));
        mg->log_path[0] = '\0';
        lc_managed_stop(mg);
        return INF_ERR_IO;
    }
    close(fd);

    char port_s[16], ctx_s[16], ngl_s[16], np_s[16], th_s[16];
    snprintf(port_s, sizeof port_s, "%d", port);
    char *argv[24];
    int a = 0;
    argv[a++] = binary;
    argv[a++] = "-m"; argv[a++] = (char *)gguf_path;
    argv[a++] = "--host"; argv[a++] = "127.0.0.1";
    argv[a++] = "--port"; argv[a++] = port_s;
    if (cfg && cfg->context_len > 0) {
        snprintf(ctx_s, sizeof ctx_s, "%d", cfg->context_len);
        argv[a++] = "-c"; argv[a++] = ctx_s;
    }
    /* -1 (all layers) is spelled with a large count, as llama.cpp users do. */
    snprintf(ngl_s, sizeof ngl_s, "%d", !cfg || cfg->gpu_layers < 0 ? 999 : cfg->gpu_layers);
    argv[a++] = "-ngl"; argv[a++] = ngl_s;
    if (cfg && cfg->parallel_slots > 0) {
        snprintf(np_s, sizeof np_s, "%d", cfg->parallel_slots);
        argv[a++] = "-np"; argv[a++] = np_s;
    }
    if (cfg && cfg->threads > 0) {
        snprintf(th_s, sizeof th_s, "%d", cfg->threads);
        argv[a++] = "-t"; argv[a++] = th_s;
    }
    if (cfg && cfg->kv_cache_type && cfg->kv_cache_type[0]) {
        argv[a++] = "-ctk"; argv[a++] = (char *)cfg->kv_cache_type;
        argv[a++] = "-ctv"; argv[a++] = (char *)cfg->kv_cache_type;
    }
    argv[a] = NULL;

    int serr = 0;
    mg->pid = spawn_server(binary, argv, mg->log_path, &serr);
    if (mg->pid <= 0) {
        inf_error_set(err, INF_ERR_UNAVAILABLE, "llama_cpp: cannot start %s: %s", binary, strerror(serr));
        lc_managed_stop(mg);
        return INF_ERR_UNAVAILABLE;
    }
    snprintf(root, root_size, "http://127.0.0.1:%d", port);
    inf_status st = wait_ready(mg, root, err);
    if (st != INF_OK) { lc_managed_stop(mg); return st; }
    *out = mg;
    return INF_OK;
}
