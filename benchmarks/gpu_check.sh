#!/usr/bin/env bash
# The GPU (or TPU) check in one call, on a machine whose Python already has JAX with its
# accelerator plugin, optax, matplotlib, rich, threadpoolctl and pytest (no venv is made and
# nothing is downloaded):
#   1. the devices JAX sees, and a refusal if they are CPUs (this is not the CPU benchmark;
#      ALLOW_CPU=1 lets a dry run of this script go through on a CPU);
#   2. the throughput benchmark with the accelerator's default grid (S up to 65536), stopped after
#      BENCH_LIMIT seconds (default 420) if it runs long: it writes its files after every dataset
#      and dtype, so what it finished comes back, marked as a partial run;
#   3. the layout tests on the accelerator (chunked, sharded and padded runs equal plain ones),
#      stopped after TESTS_LIMIT seconds (default 120).
# A lent machine's time is short, so the benchmark, which only it can give, runs first.
# Everything lands in $OUT (default: benchmarks/gpu-out): the logs, results.json, the plot, and a
# RESULTS.md that is this checkout's benchmarks/RESULTS.md with the accelerator's section written
# in; copy it over benchmarks/RESULTS.md to keep it. Extra arguments go to the benchmark, e.g.
# `--seeds 256,65536 --dtypes float32` for a shorter run.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-benchmarks/gpu-out}
mkdir -p "$out"
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
python=${PYTHON:-python3}

"$python" - <<'EOF'
import os
import sys

import jax

devices = jax.devices()
print("JAX", jax.__version__, "devices:", devices)
if devices[0].platform == "cpu" and os.environ.get("ALLOW_CPU") != "1":
    sys.exit("gpu_check: JAX sees only CPUs here; run `make bench` for the CPU benchmark")
EOF
[ $? -eq 0 ] || exit 1
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>/dev/null || true

cp benchmarks/RESULTS.md "$out/RESULTS.md"
timeout "${BENCH_LIMIT:-420}" "$python" -m benchmarks.throughput --json "$out/results.json" \
    --markdown "$out/RESULTS.md" "$@" 2>&1 | tee "$out/bench.log"
bench=$?

timeout "${TESTS_LIMIT:-120}" "$python" -m pytest -q -p no:cacheprovider tests/test_layout.py 2>&1 \
    | tee "$out/tests.log"
tests=$?
echo "gpu_check: benchmark exit $bench, layout tests exit $tests (124: stopped at its time limit)"
exit $((bench || tests))
