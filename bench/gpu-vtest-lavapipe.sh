#!/bin/sh
# bench/gpu-vtest-lavapipe.sh: ggml's test-backend-ops on this machine's
# lavapipe three ways, side by side in one run:
#   native   the sid root's own lavapipe (no Venus)
#   pv       Mesa Venus in the sid root -> pearvisor gpu-server -> lavapipe
#   virgl    Mesa Venus in the sid root -> virglrenderer 1.3's
#            virgl_test_server --venus (run inside the sid root) -> lavapipe
# Each run has its own timeout (PV_BENCH_TIMEOUT, default 120 s); a run that
# hits it is reported as such, not as a number. Prints seconds per run, the
# summed us/run of the perf subset, and ratios against native.
#
#   PV_BENCH_TIMEOUT=120 sh bench/gpu-vtest-lavapipe.sh
# Each perf case's us/run lines are summed (one line per matching case).
set -u
cd "$(dirname "$0")/.."
top=$PWD
B=$top/build/x86_64
T=${PV_BENCH_TIMEOUT:-120}
# perf cases: OP or OP@PARAMS_REGEX (test-backend-ops -p); an unfiltered
# ADD alone runs past 120 s on lavapipe here.
PERF_OPS=${PV_BENCH_PERF_OPS:-'ADD@type=f32,ne=\[4096,1,1,1\] MUL_MAT@type_a=f32,type_b=f32,m=4096,n=1,k=14336,'}
TBO=/usr/libexec/x86_64-linux-gnu/llama.cpp-tests/test-backend-ops

make -j2 all >/dev/null || { echo "build failed"; exit 1; }
root=$(sh guest/build-gpu-root.sh sid | tail -n 1)
[ -f "$root/.pv-root-complete" ] || { echo "no sid root"; exit 1; }

work=$(mktemp -d /tmp/vtbench.XXXXXX)
mkdir -p "$work/pv" "$work/virgl"
pv_sock=$work/pv/vtest.sock
virgl_sock=$work/virgl/vtest.sock
pv_pid= virgl_pid=
cleanup() {
	[ -n "$pv_pid" ] && kill "$pv_pid" 2>/dev/null
	[ -n "$virgl_pid" ] && kill "$virgl_pid" 2>/dev/null
	sleep 1
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

"$B/pearvisor" gpu-server --socket "$pv_sock" >"$work/pv.log" 2>&1 &
pv_pid=$!
# in-root.sh execs down to the server, so this pid is virgl_test_server's.
VTEST_SOCKET_NAME=$virgl_sock PV_IN_ROOT_NATIVE=1 bash tests/venus/in-root.sh "$root" -- \
	virgl_test_server --venus --use-egl-surfaceless --socket-path="$virgl_sock" \
	>"$work/virgl.log" 2>&1 &
virgl_pid=$!
for _ in $(seq 60); do
	[ -S "$pv_sock" ] && [ -S "$virgl_sock" ] && break
	sleep 0.5
done
[ -S "$pv_sock" ] || { cat "$work/pv.log"; echo "gpu-server did not start"; exit 1; }
[ -S "$virgl_sock" ] || { cat "$work/virgl.log"; echo "virgl_test_server did not start"; }

# run MODE OUTFILE ARGS...: test-backend-ops in the sid root; prints the
# wall time in seconds, or "timeout".
run() {
	mode=$1 out=$2; shift 2
	t0=$(date +%s.%N)
	case $mode in
	native) PV_IN_ROOT_NATIVE=1 GGML_VK_VISIBLE_DEVICES=0 timeout "$T" \
			bash tests/venus/in-root.sh "$root" -- "$TBO" "$@" >"$out" 2>&1 ;;
	pv) VTEST_SOCKET_NAME=$pv_sock GGML_VK_VISIBLE_DEVICES=0 timeout "$T" \
			bash tests/venus/in-root.sh "$root" -- "$TBO" "$@" >"$out" 2>&1 ;;
	virgl) VTEST_SOCKET_NAME=$virgl_sock GGML_VK_VISIBLE_DEVICES=0 timeout "$T" \
			bash tests/venus/in-root.sh "$root" -- "$TBO" "$@" >"$out" 2>&1 ;;
	esac
	st=$?
	t1=$(date +%s.%N)
	if [ $st -eq 124 ] || [ $st -eq 137 ]; then
		echo "timeout(>${T}s)"
	elif [ $st -ne 0 ] || ! grep -q "Backend [0-9]*/[0-9]*: Vulkan0" "$out"; then
		echo "failed(exit $st)"
	else
		echo "$t0 $t1" | awk '{printf "%.2f", $2 - $1}'
	fi
}

# perf_sum FILE: summed us/run over the perf lines, and their count.
perf_sum() {
	awk '/us\/run/ { for (i = 1; i < NF; i++) if ($(i+1) == "us/run") { s += $i; n++ } }
	     END { if (n) printf "%.2f %d", s, n }' "$1"
}

ratio() {
	case "$1$2" in
	*[!0-9.]*) echo "-" ;;
	*) echo "$1 $2" | awk '{ if ($2 > 0) printf "%.1fx", $1 / $2; else print "-" }' ;;
	esac
}

echo "test-backend-ops on lavapipe, sid root $(basename "$root"), timeout ${T}s per run"
echo "host: $(nproc) CPUs, $(uname -r); $(date -u +%Y-%m-%dT%H:%MZ)"
printf '%-28s %14s %14s %16s %10s %10s\n' run native pearvisor virgl-1.3 pv/native virgl/native

r_n=$(run native "$work/sqr-native.txt" -b Vulkan0 -o SQR)
r_p=$(run pv "$work/sqr-pv.txt" -b Vulkan0 -o SQR)
r_v=$(run virgl "$work/sqr-virgl.txt" -b Vulkan0 -o SQR)
printf '%-28s %14s %14s %16s %10s %10s\n' "-o SQR (s)" "$r_n" "$r_p" "$r_v" \
	"$(ratio "$r_p" "$r_n")" "$(ratio "$r_v" "$r_n")"

set -f # the regexes must not glob
for spec in $PERF_OPS; do
	op=${spec%%@*}
	n=
	for m in native pv virgl; do
		if [ "$op" = "$spec" ]; then
			t=$(run $m "$work/perf-$op-$m.txt" perf -b Vulkan0 -o "$op")
		else
			t=$(run $m "$work/perf-$op-$m.txt" perf -b Vulkan0 -o "$op" -p "${spec#*@}")
		fi
		s=$(perf_sum "$work/perf-$op-$m.txt")
		case $t in
		timeout*|failed*) eval "w_$m=\$t; u_$m=\$t" ;;
		*) [ -n "$s" ] || s="no-cases 0"
		   eval "w_$m=\$t; u_$m=\${s%% *}"; n=${s#* } ;;
		esac
	done
	printf '%-28s %14s %14s %16s %10s %10s\n' "perf $op (s)" "$w_native" "$w_pv" \
		"$w_virgl" "$(ratio "$w_pv" "$w_native")" "$(ratio "$w_virgl" "$w_native")"
	printf '%-28s %14s %14s %16s %10s %10s\n' "perf $op (us/run, ${n:-?} cases)" \
		"$u_native" "$u_pv" "$u_virgl" "$(ratio "$u_pv" "$u_native")" \
		"$(ratio "$u_virgl" "$u_native")"
done
