#!/usr/bin/env bash
# `make bench`: runs every step in bench/steps/ in name order. Each step
# measures one area and rewrites its own section of docs/BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
export DJANGO_SECRET_KEY=${DJANGO_SECRET_KEY:-$(cat var/secret_key 2>/dev/null || echo bench-only-key-not-secret-000000000000000)}
mkdir -p bench/results
# Throughput is measured with Debian's wrk as well as our own generator
# (bench/throughput_compare.py, bench/campaign_load.py): install it when this
# machine may (root with apt) and lacks it, as .ci/run does for Chromium.
if ! command -v wrk >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get install -y -q wrk >/dev/null 2>&1 || echo "== could not install wrk: throughput steps will fail ==" >&2
fi
status=0
for step in bench/steps/*; do
    [ -x "$step" ] || continue
    echo "== bench: $(basename "$step") =="
    if ! "$step"; then
        echo "!! bench step $(basename "$step") failed" >&2
        status=1
    fi
done
exit $status
