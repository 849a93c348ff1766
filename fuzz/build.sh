#!/usr/bin/env bash
# fuzz/build.sh - builds the libFuzzer harnesses fuzz/fuzz_<target>.c with
# clang, AddressSanitizer and UndefinedBehaviorSanitizer.
#
# The CMake build is gcc-based, so the library sources each harness needs
# are compiled here directly (with -fsanitize=fuzzer-no-link so that the
# parsers are coverage-instrumented) into one static archive; each harness
# links against it and pulls in only the objects it uses.
#
#   bash fuzz/build.sh [OUT_DIR]      (default: build-fuzz)
#
# Any compile or link error fails the build (and so `make fuzz`).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=${1:-build-fuzz}
mkdir -p "$OUT/obj"
OUT=$(cd "$OUT" && pwd)

CC=${FUZZ_CC:-clang}
JOBS=${FUZZ_JOBS:-2}
command -v "$CC" >/dev/null || { echo "fuzz/build.sh: $CC not found (apt-get install clang libclang-rt-14-dev)" >&2; exit 1; }

DEPS="libcjson libpcre2-8 libutf8proc"
DEP_CFLAGS=$(pkg-config --cflags $DEPS)
DEP_LIBS=$(pkg-config --libs $DEPS)
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
CFLAGS="-std=c11 -g -O1 -D_GNU_SOURCE -DINF_FUZZING=1 -Wall -Wextra -Wno-unknown-warning-option -Iinclude -Isrc -Itools $DEP_CFLAGS $SAN"

# The parsers and what they need (the model, backends, server glue and SIMD
# kernels stay out: the harnesses call the parsers directly).
LIB_SOURCES=$(ls src/base/*.c src/formats/*.c src/text/*.c src/chat/jinja/*.c 2>/dev/null || true)
# The type table (type_traits.c) gives the GGUF reader its type sizes; its
# rows name the row codecs, the packed layouts and the MLX kernels, which
# refer to the SIMD kernel table: fuzz/stub_kernels.c stands in for it.
LIB_SOURCES="$LIB_SOURCES src/core/options.c src/core/error.c fuzz/stub_kernels.c"
LIB_SOURCES="$LIB_SOURCES src/tensor/type_traits.c src/tensor/half_float.c src/tensor/dequant_rows.c"
LIB_SOURCES="$LIB_SOURCES src/tensor/quant_rows.c src/tensor/packed.c"
LIB_SOURCES="$LIB_SOURCES $(ls src/tensor/kernels_mlx*.c src/tensor/threadpool.c src/tensor/cpu_features.c 2>/dev/null)"
LIB_SOURCES="$LIB_SOURCES tools/serve/request.c"

echo "fuzz/build.sh: compiling $(echo $LIB_SOURCES | wc -w) library sources with $CC"
compile_one() {
    local src=$1 obj=$2
    if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ] || [ fuzz/build.sh -nt "$obj" ] \
       || find "$(dirname "$src")" src/base src/formats src/text src/tensor include -name '*.h' -newer "$obj" 2>/dev/null | grep -q .; then
        local isa=""
        case $src in *_avx2.c) isa="-mavx2 -mfma -mf16c" ;; esac  # as CMakeLists.txt does
        $CC $CFLAGS $isa -fsanitize=fuzzer-no-link -c "$src" -o "$obj"
    fi
}
export -f compile_one
export CC CFLAGS
OBJS=()
for src in $LIB_SOURCES; do
    OBJS+=("$OUT/obj/$(echo "$src" | tr '/' '_' | sed 's/\.c$/.o/')")
done
i=0
for src in $LIB_SOURCES; do
    printf '%s\0%s\0' "$src" "${OBJS[$i]}"
    i=$((i + 1))
done | xargs -0 -n2 -P "$JOBS" bash -c 'compile_one "$0" "$1"'
rm -f "$OUT/libparsers.a"
ar rcs "$OUT/libparsers.a" "${OBJS[@]}"

# Every harness must build: a link error (e.g. a parser now needing a
# source file not listed above) fails the build rather than silently
# dropping a target from CI.
built=0
for harness in fuzz/fuzz_*.c; do
    name=$(basename "$harness" .c)
    echo "fuzz/build.sh: linking $name"
    $CC $CFLAGS -fsanitize=fuzzer "$harness" "$OUT/libparsers.a" $DEP_LIBS -lm -lpthread -o "$OUT/$name"
    built=$((built + 1))
done
echo "fuzz/build.sh: $built harnesses built in $OUT"
