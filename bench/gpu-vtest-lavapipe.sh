#!/bin/sh
# bench/gpu-vtest-lavapipe.sh: ggml's test-backend-ops on this machine's
# lavapipe three ways, side by side in one run:
#   native   the sid root's own lavapipe (no Venus)
#   pv       Mesa Venus in the sid root -> pearvisor gpu-server -> the
#            host's lavapipe (Mesa 25.0.7, LLVM 15: another build)
#   pvsame   the same, with gpu-server run inside the sid root on the
#            root's own lavapipe: the like-for-like column against native
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
# perf cases: an exact test case string, an op name, or OP@PARAMS_REGEX
# (test-backend-ops -p). Unfiltered ops run far past the per-run timeout on
# lavapipe here, so the default is one exact case.
PERF_OPS=${PV_BENCH_PERF_OPS:-'ADD(type=f32,ne=[4096,1,1,1],nr=[1,1,1,1],nf=1,perm1=0,src_overlap=0)'}
TBO=/usr/libexec/x86_64-linux-gnu/llama.cpp-tests/test-backend-ops

make -j2 all >/dev/null || { echo "build failed"; exit 1; }
root=$(sh guest/build-gpu-root.sh sid | tail -n 1)
[ -f "$root/.pv-root-complete" ] || { echo "no sid root"; exit 1; }

work=$(mktemp -d /tmp/vtbench.XXXXXX)
mkdir -p "$work/pv" "$work/virgl" "$work/pvsame" "$work/lib"
pv_sock=$work/pv/vtest.sock
virgl_sock=$work/virgl/vtest.sock
same_sock=$work/pvsame/vtest.sock
pv_pid= virgl_pid= same_pid=
cleanup() {
	[ -n "$pv_pid" ] && kill "$pv_pid" 2>/dev/null
	[ -n "$virgl_pid" ] && kill "$virgl_pid" 2>/dev/null
	[ -n "$same_pid" ] && kill "$same_pid" 2>/dev/null
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
# The host-built server in the root: only the libraries the root lacks
# (libfdt) come from the host.
ldd "$B/pearvisor" | awk '$3 ~ /^\// {print $3}' | while read -r lib; do
	n=$(basename "$lib")
	[ -e "$root/usr/lib/x86_64-linux-gnu/$n" ] || [ -e "$root/lib/x86_64-linux-gnu/$n" ] ||
		cp -L "$lib" "$work/lib/"
done
VTEST_SOCKET_NAME=$same_sock PV_IN_ROOT_NATIVE=1 PV_IN_ROOT_BIND="$B:$work/lib" \
	bash tests/venus/in-root.sh "$root" -- env LD_LIBRARY_PATH="$work/lib" \
	"$B/pearvisor" gpu-server --socket "$same_sock" >"$work/pvsame.log" 2>&1 &
same_pid=$!
for _ in $(seq 60); do
	[ -S "$pv_sock" ] && [ -S "$virgl_sock" ] && [ -S "$same_sock" ] && break
	sleep 0.5
done
[ -S "$pv_sock" ] || { cat "$work/pv.log"; echo "gpu-server did not start"; exit 1; }
[ -S "$virgl_sock" ] || { cat "$work/virgl.log"; echo "virgl_test_server did not start"; }
[ -S "$same_sock" ] || { cat "$work/pvsame.log"; echo "gpu-server in the root did not start"; }

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
	pvsame) VTEST_SOCKET_NAME=$same_sock GGML_VK_VISIBLE_DEVICES=0 timeout "$T" \
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
fmt='%-28s %12s %12s %12s %14s %10s %10s %10s\n'
printf "$fmt" run native pv-same-lvp pearvisor virgl-1.3 same/native pv/native virgl/native

r_n=$(run native "$work/sqr-native.txt" -b Vulkan0 -o SQR)
r_s=$(run pvsame "$work/sqr-pvsame.txt" -b Vulkan0 -o SQR)
r_p=$(run pv "$work/sqr-pv.txt" -b Vulkan0 -o SQR)
r_v=$(run virgl "$work/sqr-virgl.txt" -b Vulkan0 -o SQR)
printf "$fmt" "-o SQR (s)" "$r_n" "$r_s" "$r_p" "$r_v" \
	"$(ratio "$r_s" "$r_n")" "$(ratio "$r_p" "$r_n")" "$(ratio "$r_v" "$r_n")"

set -f # the regexes must not glob
for spec in $PERF_OPS; do
	op=${spec%%@*}
	label=${spec%%(*}
	n=
	for m in native pvsame pv virgl; do
		if [ "$op" = "$spec" ]; then
			t=$(run $m "$work/perf-$label-$m.txt" perf -b Vulkan0 -o "$op")
		else
			t=$(run $m "$work/perf-$label-$m.txt" perf -b Vulkan0 -o "$op" -p "${spec#*@}")
		fi
		s=$(perf_sum "$work/perf-$label-$m.txt")
		case $t in
		timeout*|failed*) eval "w_$m=\$t; u_$m=\$t" ;;
		*) [ -n "$s" ] || s="no-cases 0"
		   eval "w_$m=\$t; u_$m=\${s%% *}"; n=${s#* } ;;
		esac
	done
	printf "$fmt" "perf $label (s)" "$w_native" "$w_pvsame" "$w_pv" "$w_virgl" \
		"$(ratio "$w_pvsame" "$w_native")" "$(ratio "$w_pv" "$w_native")" \
		"$(ratio "$w_virgl" "$w_native")"
	printf "$fmt" "perf $label (us/run, ${n:-?} cases)" \
		"$u_native" "$u_pvsame" "$u_pv" "$u_virgl" "$(ratio "$u_pvsame" "$u_native")" \
		"$(ratio "$u_pv" "$u_native")" "$(ratio "$u_virgl" "$u_native")"
done
