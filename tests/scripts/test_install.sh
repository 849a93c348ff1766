#!/usr/bin/env bash
# test_install.sh - `cmake --install` into a scratch prefix, then a consumer
# builds against it with pkg-config and with CMake's find_package.
set -u
if [ "${INF_SANITIZED:-0}" = 1 ]; then
    echo "SKIP: sanitizer build: an uninstrumented consumer cannot link it (the plain build runs this test)"
    exit 77
fi
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$INF_BUILD_DIR" --prefix "$prefix" >/dev/null || { echo "FAIL: install"; exit 1; }
fail=0; pass=0
for f in include/inference.h lib/pkgconfig/inference.pc lib/cmake/inference/inferenceConfig.cmake; do
    [ -f "$prefix/$f" ] && pass=$((pass+1)) || { echo "FAIL: $f not installed"; fail=$((fail+1)); }
done
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
if cc "$INF_SOURCE_DIR/examples/stream.c" $(pkg-config --cflags --libs inference) -o "$prefix/ex" \
   && LD_LIBRARY_PATH="$prefix/lib" "$prefix/ex" 2>/dev/null; [ $? -eq 2 ]; then
    pass=$((pass+1))
else
    echo "FAIL: pkg-config consumer"; fail=$((fail+1))
fi
mkdir -p "$prefix/app"
cat > "$prefix/app/CMakeLists.txt" <<CM
cmake_minimum_required(VERSION 3.20)
project(app C)
find_package(inference REQUIRED)
add_executable(app "$INF_SOURCE_DIR/examples/stream.c")
target_link_libraries(app inference::inference)
CM
if cmake -S "$prefix/app" -B "$prefix/app/build" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null \
   && cmake --build "$prefix/app/build" >/dev/null; then
    pass=$((pass+1))
else
    echo "FAIL: find_package consumer"; fail=$((fail+1))
fi
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
