#!/bin/sh
# bench/nested-gpu.sh [--rounds N] [--runs N] [--vkargs ARGS]
#
# The virtio-gpu transport vs the vtest socket, same renderer, same program:
# pv-vktest through Mesa's Venus driver on L1's lavapipe, (a) inside an L2
# guest of `pearvisor run --gpu` and (b) in L1 over `pearvisor gpu-server`
# (VN_DEBUG=vtest), alternately in one L1 session (bench/nested-gpu-l1.sh).
# Prints every run, the medians per transport and check, and the L2/vtest
# ratios. Everything runs under TCG (nested): compare the two transports
# with each other only. Not a test: no pass/fail on timings.
#   --rounds N   L2 boots, each followed by the vtest runs (default 2)
#   --runs N     pv-vktest runs per round and transport (default 3); the
#                first run of each L2 boot is reported but left out of the
#                medians (cold page cache in L2)
#   --vkargs A   pv-vktest options, '+' for spaces (default: none, the full
#                run, as tests/suites/45-nested-gpu.sh)
set -eu
cd "$(dirname "$0")/.."
rounds=2 runs=3 vkargs=
while [ $# -gt 0 ]; do
	case $1 in
	--rounds) rounds=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	--vkargs) vkargs=$2; shift 2 ;;
	*) echo "usage: bench/nested-gpu.sh [--rounds N] [--runs N] [--vkargs ARGS]" >&2; exit 2 ;;
	esac
done
out=build/nested/gpu-bench
mkdir -p "$out"
sh guest/build-arm64-images.sh
img=$(sh guest/build-arm64-images.sh --print-dir)
B=build/aarch64-gpu
make -j2 ARCH=aarch64 GPU=1 O=$B $B/pearvisor $B/pv-vktest >"$out/build.log" 2>&1 ||
	{ tail -n 20 "$out/build.log"; exit 1; }
rm -rf "$out/payload"
mkdir -p "$out/payload"
printf 'PV_BENCH_ROUNDS=%s\nPV_BENCH_RUNS=%s\nPV_BENCH_VKARGS=%s\n' "$rounds" "$runs" "$vkargs" \
	>"$out/payload/config"
cp tests/nested/l1-lib.sh $B/pearvisor $B/pv-vktest "$out/payload/"
disk=$out/l2.img
cp --sparse=always "$img/l2-root.img" "$disk"
echo "nested-gpu bench: load before $(cut -d' ' -f1-3 /proc/loadavg); L1 log $out/l1.log" >&2
rc=0
sh tests/nested/run-l1.sh --l2-disk "$disk" --log "$out/l1.log" --timeout 3600 \
	bench/nested-gpu-l1.sh "$out/payload"/* >"$out/results.txt" || rc=$?
rm -f "$disk"
echo "nested-gpu bench: load after $(cut -d' ' -f1-3 /proc/loadavg); L1 status $rc" >&2
grep -E '^(INFO|BENCH)' "$out/results.txt" || true
python3 - "$out/results.txt" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    f = line.split()
    if not f or f[0] != 'BENCH':
        continue
    kv = dict(x.split('=', 1) for x in f[2:])
    if f[1] == 'l2' and kv['run'] == '1':
        continue   # cold start of each L2 boot
    for k, v in kv.items():
        if k.endswith('_ms'):
            runs.setdefault(k[:-3], {}).setdefault(f[1], []).append(float(v))
if not runs:
    sys.exit('nested-gpu bench: no complete runs')
print('%-10s %12s %12s %8s   (median ms; n = runs)' % ('', 'L2 virtio', 'L1 vtest', 'ratio'))
for k in ['total', 'compute', 'copies', 'timeline', 'objects']:
    if k not in runs or 'l2' not in runs[k] or 'vtest' not in runs[k]:
        continue
    a, b = statistics.median(runs[k]['l2']), statistics.median(runs[k]['vtest'])
    print('%-10s %9.1f n=%-2d %9.1f n=%-2d %7.2fx' % (k, a, len(runs[k]['l2']), b,
          len(runs[k]['vtest']), a / b if b else float('nan')))
PY
