/* stream_read.h - the AVX-512 read loop of the bandwidth probe, shared by
 * bench_bandwidth.c and bench_decode_bound.c so that both measure the same
 * thing: 256 bytes per iteration into four independent accumulators, with
 * a software prefetch 4 KiB ahead (as the engine's decode kernels do:
 * without it one core leaves part of the bandwidth unused). n must be a
 * multiple of 256 and p 64-byte aligned. */
#ifndef INF_BENCH_STREAM_READ_H
#define INF_BENCH_STREAM_READ_H

#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

__attribute__((target("avx512f"))) static inline uint64_t stream_read_avx512(const unsigned char *p, size_t n)
{
    __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
    for (size_t i = 0; i < n; i += 256) {
        _mm_prefetch((const char *)p + i + 4096, _MM_HINT_T0);
        _mm_prefetch((const char *)p + i + 4096 + 64, _MM_HINT_T0);
        _mm_prefetch((const char *)p + i + 4096 + 128, _MM_HINT_T0);
        _mm_prefetch((const char *)p + i + 4096 + 192, _MM_HINT_T0);
        a0 = _mm512_add_epi64(a0, _mm512_load_si512((const void *)(p + i)));
        a1 = _mm512_add_epi64(a1, _mm512_load_si512((const void *)(p + i + 64)));
        a2 = _mm512_add_epi64(a2, _mm512_load_si512((const void *)(p + i + 128)));
        a3 = _mm512_add_epi64(a3, _mm512_load_si512((const void *)(p + i + 192)));
    }
    return (uint64_t)_mm512_reduce_add_epi64(_mm512_add_epi64(_mm512_add_epi64(a0, a1), _mm512_add_epi64(a2, a3)));
}

#endif
