#!/usr/bin/env bash
# test_install.sh - `make install PREFIX=DIR` installs into DIR (whatever
# prefix the build was configured with) and honours DESTDIR; a consumer
# builds against the install with pkg-config and with CMake's find_package;
# the installed infer finds the bundled model from any directory.
set -u
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
make -s -C "$INF_SOURCE_DIR" install BUILD="$INF_BUILD_DIR" PREFIX="$prefix" >/dev/null || { echo "FAIL: make install"; exit 1; }
fail=0; pass=0
for f in include/inference.h lib/pkgconfig/inference.pc lib/cmake/inference/inferenceConfig.cmake bin/infer \
         share/inference/models/stories260K.gguf share/inference/models/LICENSE share/man/man1/infer.1; do
    [ -f "$prefix/$f" ] && pass=$((pass+1)) || { echo "FAIL: $f not installed under PREFIX"; fail=$((fail+1)); }
done
# DESTDIR: the files land under DESTDIR/PREFIX.
staged=$(mktemp -d)
make -s -C "$INF_SOURCE_DIR" install BUILD="$INF_BUILD_DIR" PREFIX=/opt/inference DESTDIR="$staged" >/dev/null
if [ -f "$staged/opt/inference/bin/infer" ] && [ -f "$staged/opt/inference/include/inference.h" ] && [ ! -e /opt/inference ]; then
    pass=$((pass+1))
else
    echo "FAIL: make install DESTDIR=$staged PREFIX=/opt/inference"; fail=$((fail+1))
fi
rm -rf "$staged"
# The installed infer, run from an empty directory with no user model
# folders, finds the bundled model.
mkdir -p "$prefix/empty/home"
if out=$(cd "$prefix/empty" && HOME="$prefix/empty/home" XDG_DATA_HOME= INFERENCE_MODEL= \
         "$prefix/bin/infer" run "Once upon a time" --max-tokens 8 --temperature 0 2>/dev/null) && [ -n "$out" ]; then
    pass=$((pass+1))
else
    echo "FAIL: the installed infer does not find the bundled model from another directory"; fail=$((fail+1))
fi
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
