#!/bin/sh
# Resolver figures: synthetic configurations of 1,000 / 10,000 / 100,000
# devices (a balanced tree of functor applications over distinct leaves,
# each leaf a `match_impl` on the target), evaluated with the catalogue and
# checked for all seven targets. Prints CPU times; the goal is
# under 200 ms for the whole matrix at 10,000 devices, growing linearly.
# Usage: benches/resolver.sh [N…]
set -eu
cd "$(dirname "$0")/.."
cargo run --release -q -p unik-resolver --example bench -- "$@"
