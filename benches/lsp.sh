#!/bin/sh
# Language-server latency: time from an incremental didChange to
# publishDiagnostics, for the quick pass (syntax and scope, published at
# once) and the full check (evaluation and resolution on all seven
# targets), on a generated 2,000-line configuration and on an example.
# The server is the release build; the client is tests/lsp_bench.rs.
# Usage: benches/lsp.sh [RUNS]   (edits per file, default 20)
set -eu
cd "$(dirname "$0")/.."
cargo build --release -q --bin unikc
RUNS=${1:-20} UNIKC_BIN=$PWD/target/release/unikc \
    cargo test -q --test lsp_bench -- --ignored --nocapture 2>&1 | grep -v '^$' | grep -v '^running\|^test \|^test result\|^\.*$'
