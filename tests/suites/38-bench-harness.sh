#!/bin/sh
# 38-bench-harness: the H100 benchmark harness (bench/h100) on lavapipe, so
# that it cannot rot between device sessions, whose minutes are scarce:
# pack.sh builds the bundle from the cached sid root (and the lavapipe
# extra), run.sh runs a quick pass of native and pearvisor modes with the
# workloads whose parsing is most involved (vn-micro and vkmark, each also
# in alternating rounds, llama-bench rounds, per-token CPU, the token
# timeline, ggml's per-op GPU times), and the results must have a row for
# each. Functional only: nothing here is timed (docs/PERFORMANCE.md
# has the H100 figures).
set -u
cd "$(dirname "$0")/../.."
top=$PWD
# Not /tmp/pv-*: other suites clean up by that pattern.
work=$(mktemp -d /tmp/benchsuite.XXXXXX)
cleanup() {
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

. tests/venus/suite-lib.sh

build_all || exit 1
build_roots
[ -n "${root_sid:-}" ] || { fail bench-pack; exit 0; }

progress "pack.sh (sid root $root_sid)"
if timeout 1200 bash bench/h100/pack.sh --root "$root_sid" --trixie-root none \
	--dest "$work/carry" --lavapipe >"$work/pack.log" 2>&1 &&
   [ -s "$work/carry/sid-bench.tar.xz" ] && [ -x "$work/carry/pv/pearvisor" ] &&
   [ -s /var/tmp/pv-bench-lavapipe.tar.xz ]; then
	pass bench-pack
else
	tail -30 "$work/pack.log"
	fail bench-pack
	exit 0
fi

out=$work/out
mkdir -p "$out"
progress "run.sh --quick --lavapipe"
if OUT=$out PV_BENCH_MODES='native pearvisor' \
	PV_BENCH_WORKLOADS='micro microrounds llamarounds llamacpu llamatimeline llamaops vkmark vkmarkrounds waketimeline' \
	timeout 1500 bash "$work/carry/run.sh" --quick --lavapipe /var/tmp/pv-bench-lavapipe.tar.xz \
	>"$work/run.log" 2>&1; then
	pass bench-run
else
	tail -40 "$work/run.log"
	fail bench-run
fi
mkdir -p "$top/build/test-logs/bench-harness"
cp "$work/run.log" "$work/pack.log" "$out"/*.txt "$top/build/test-logs/bench-harness/" 2>/dev/null

# has_row PATTERN NAME: results.tsv has a row matching PATTERN.
has_row() {
	if grep -Eq "$1" "$out/results.tsv" 2>/dev/null; then
		pass "$2"
	else
		echo "no row matching '$1' in results.tsv:"
		cat "$out/results.tsv" 2>/dev/null | head -40
		fail "$2"
	fi
}
has_row '^micro:null_sync_call	native	' bench-micro-native
has_row '^micro:null_sync_call\[no_fence_feedback\]	pearvisor	' bench-micro-pearvisor
has_row '^llama-bench:1\.1b:pp32	pearvisor	[0-9.]+	' bench-llama-rounds
has_row '^vkmark:Score	native	[0-9]+' bench-vkmark-native
has_row '^vkmark:Score	pearvisor	[0-9]+' bench-vkmark-pearvisor
has_row '^micro:null_sync_call\[no_fence_feedback\]	pearvisor	.*medians of 2 rounds' bench-micro-rounds
has_row '^vkmark:Score	pearvisor	[0-9]+	score \(median of 2 rounds\)' bench-vkmark-rounds

if grep -q '^pearvisor .*ring_busy .*vtest_cpu' "$out/llamacpu.txt" 2>/dev/null &&
   grep -q '^native .*client_cpu' "$out/llamacpu.txt"; then
	pass bench-llamacpu
else
	cat "$out/llamacpu.txt" 2>/dev/null
	fail bench-llamacpu
fi

# The token timeline comes back in logs.tar.gz, with the renderer's ring
# and queue events, and token-path.py reads it.
tl=$work/tl
mkdir -p "$tl"
if tar -xzf "$out/logs.tar.gz" -C "$tl" 2>/dev/null &&
   xz -d "$tl"/token-timeline-pearvisor-client-*.tl.xz 2>/dev/null &&
   f=$(ls "$tl"/token-timeline-pearvisor-client-*.tl 2>/dev/null | head -1) && [ -n "$f" ] &&
   awk '$2 == 4 { b++ } $2 == 5 { e++ } $2 == 6 { q++ } END { exit !(b > 0 && b == e && q > 0) }' "$f" &&
   python3 bench/h100/token-path.py "$f" 1 >"$work/token-path.txt" 2>&1; then
	cat "$work/token-path.txt"
	pass bench-token-timeline
else
	ls -la "$tl" 2>/dev/null
	cat "$work/token-path.txt" 2>/dev/null
	fail bench-token-timeline
fi

# ggml's per-op GPU timestamps pass through Venus (timestamp queries) and
# ggml-ops.py compares both modes' last graphs.
if [ -s "$tl/llamaops-native.log" ] && [ -s "$tl/llamaops-pearvisor.log" ] &&
   python3 bench/h100/ggml-ops.py "$tl/llamaops-native.log" "$tl/llamaops-pearvisor.log" \
	>"$work/ggml-ops.txt" 2>&1 &&
   grep -q '^(total) | [0-9]* | [0-9]* | [0-9.]*%' "$work/ggml-ops.txt" &&
   grep -q '^MUL_MAT' "$work/ggml-ops.txt"; then
	head -5 "$work/ggml-ops.txt"
	pass bench-llamaops
else
	cat "$work/ggml-ops.txt" 2>/dev/null
	fail bench-llamaops
fi

# The timeline of calls after idle spells comes back too, and wake-path.py
# finds their event sequences (the submit + wait's reaches a retire).
if xz -d "$tl"/wake-timeline-pearvisor-client-*.tl.xz 2>/dev/null &&
   f=$(ls "$tl"/wake-timeline-pearvisor-client-*.tl 2>/dev/null | head -1) && [ -n "$f" ] &&
   python3 bench/h100/wake-path.py "$f" >"$work/wake-path.txt" 2>&1 &&
   grep -q '^  retire  *median' "$work/wake-path.txt"; then
	head -3 "$work/wake-path.txt"
	pass bench-wake-timeline
else
	cat "$work/wake-path.txt" 2>/dev/null
	fail bench-wake-timeline
fi

# A *_warm mode runs its mode beside a busy loop per CPU, and stops them.
out2=$work/out-warm
mkdir -p "$out2"
if OUT=$out2 PV_BENCH_MODES='native_warm' PV_BENCH_WORKLOADS='micro' \
	timeout 300 bash "$work/carry/run.sh" --quick --lavapipe /var/tmp/pv-bench-lavapipe.tar.xz \
	>"$work/run-warm.log" 2>&1 &&
   grep -Eq '^micro:null_sync_call	native_warm	[0-9.]+' "$out2/results.tsv" &&
   ! pgrep -f 'while :; do :; done' >/dev/null; then
	pass bench-warm-mode
else
	tail -20 "$work/run-warm.log"
	pgrep -af 'while :; do :; done'
	fail bench-warm-mode
fi
