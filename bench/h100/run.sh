#!/bin/bash
# run.sh: llama.cpp-class benchmarks, native against PearVisor's Venus
# renderer against virglrenderer 1.3, side by side on one GPU. Made to run
# on the device machine as one command from the repository root:
#
#   bash .carry/run.sh            (NVIDIA: /usr/local/nvidia, results in $OUT)
#   bash .carry/run.sh --lavapipe /var/tmp/pv-bench-lavapipe.tar.xz
#                                 (here, on Mesa's lavapipe, for debugging)
#
# Needs the bundle that bench/h100/pack.sh writes next to this script. Every
# program runs in a chroot of the bundled Debian sid userspace, under
# `timeout`, within an overall budget (PV_BENCH_BUDGET_S, default 510 s).
# Modes:
#   native        the program on the host driver directly
#   native_nocm2  the same with ggml's NV_coopmat2 path off (Venus exposes
#                 only KHR_cooperative_matrix): the like-for-like baseline
#   native_novidmem  native with GGML_VK_DISABLE_HOST_VISIBLE_VIDMEM=1: ggml
#                 keeps its buffers out of host-visible VRAM (ReBAR), which
#                 Venus over vtest cannot share on NVIDIA (no mappable export),
#                 so it stages uploads and read-backs as it does through Venus
#   native_likevenus  native with both of the above: the ggml paths that the
#                 guest's Venus driver offers, the like-for-like baseline
#   pearvisor     Mesa Venus (vtest) -> pearvisor gpu-server -> host driver
#   pearvisor_spin  the same with PEARVISOR_VENUS_SPIN_US=$PV_SPIN_US
#                 (default 200): server threads busy-poll before blocking
#   pearvisor_alt the same with the server environment $PV_ALT_ENV
#                 (space-separated VAR=value) and the guest's Mesa Venus
#                 perf options $PV_ALT_VN_PERF, for A/B runs of a setting
#   pearvisor_alt2  likewise with $PV_ALT2_ENV, served by pv/pearvisor.alt
#                 when bundled (an A/B of two builds)
#                 ($PV_ALT_CLIENT_ENV / $PV_ALT2_CLIENT_ENV: more guest-side
#                 environment for these two)
#   virgl         Mesa Venus (vtest) -> virgl_test_server --venus -> driver
#   native_warm, pearvisor_warm, ...  (any mode above but the trixie ones,
#                 with _warm): the same while a SCHED_IDLE busy loop runs on
#                 every CPU, so that no idle CPU halts: a diagnostic of what
#                 this host's wake-up latency (a VM: an idle vCPU halts, and
#                 waking it costs a hypervisor exit) costs each mode. Their
#                 ratios are to native_warm.
#   native_trixie, pearvisor_trixie, pearvisor_alt_trixie
#                 the client from the bundled Debian trixie userspace
#                 (trixie-bench.tar.xz: vkmark, vulkaninfo, and Mesa 25's
#                 Venus, the stock Debian 13 guest's) instead of sid's; the
#                 server is the same. Their ratios are to native_trixie.
set -u
carry=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-/tmp/pv-bench-out}
budget=${PV_BENCH_BUDGET_S:-510}
lvp_extra=
quick=0
while [ $# -gt 0 ]; do
	case $1 in
	--lavapipe) lvp_extra=$2; shift 2 ;;
	--quick) quick=1; shift ;;
	*) echo "usage: run.sh [--lavapipe EXTRA.tar.xz] [--quick]" >&2; exit 2 ;;
	esac
done
mkdir -p "$OUT"
T0=$(date +%s)
elapsed() { echo $(( $(date +%s) - T0 )); }
log() { echo "[$(elapsed)s] $*"; }
# Seconds a step may take: its own cap, but never past the overall budget
# (20 s kept back for the summary and unmounting).
cap() {
	local left=$(( budget - 20 - $(elapsed) ))
	[ "$left" -lt "$1" ] && echo "$left" || echo "$1"
}

R=/tmp/pv-bench/root
results=$OUT/results.tsv
: >"$results"
record() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$results"; }
# The median of a space-separated list, for the rounds' awk programs.
awk_median='
	function median(list,   n, a, i, j, x) {
		n = split(list, a, " ");
		for (i = 2; i <= n; i++) { x = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > x; j--) a[j + 1] = a[j]; a[j + 1] = x }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2;
	}'

cleanup() {
	[ -n "${srv_pid:-}" ] && kill "$srv_pid" 2>/dev/null
	for mnt in "$R/trixie/pv" "$R/trixie/usr/local/nvidia" "$R/trixie/tmp" "$R/trixie/proc" "$R/trixie/dev" \
		"$R/usr/local/nvidia" "$R/tmp" "$R/proc" "$R/dev"; do
		mountpoint -q "$mnt" 2>/dev/null && umount -l "$mnt"
	done
	return 0
}
trap cleanup EXIT

# ---- unpack -----------------------------------------------------------------
cleanup
rm -rf /tmp/pv-bench
mkdir -p "$R"
log "unpacking $(du -h "$carry/sid-bench.tar.xz" | cut -f1) userspace"
xz -T0 -dc "$carry/sid-bench.tar.xz" | tar -x -C "$R" || { log "FATAL: unpack failed"; exit 1; }
[ -n "$lvp_extra" ] && { xz -dc "$lvp_extra" | tar -x -C "$R" || exit 1; }
xz -T0 -dc "$carry/model.gguf.xz" >"$R/model.gguf" || { log "FATAL: model unpack failed"; exit 1; }
# Larger synthetic models (make-model.py SHAPE), if the bundle has them.
for mx in "$carry"/model-*.gguf.xz; do
	[ -e "$mx" ] || continue
	b=$(basename "$mx" .xz)
	xz -T0 -dc "$mx" >"$R/$b" || { log "FATAL: $b unpack failed"; exit 1; }
done
mkdir -p "$R/pv"
cp -r "$carry"/pv/* "$R/pv/"
# perf for the "perf" workload (bench/h100/pack-perf.sh), if bundled.
[ -e "$carry/perf.tar.xz" ] && xz -dc "$carry/perf.tar.xz" | tar -x -C "$R"
mount --bind /dev "$R/dev"
mount -t proc proc "$R/proc"
mount -t tmpfs tmpfs "$R/tmp"
if [ -z "$lvp_extra" ]; then
	mount --bind -o ro /usr/local/nvidia "$R/usr/local/nvidia" ||
		{ log "FATAL: no /usr/local/nvidia"; exit 1; }
	host_icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
	host_ld=/usr/local/nvidia/lib64
	host_egl=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
else
	host_icd=/usr/share/vulkan/icd.d/lvp_icd.json
	host_ld=
	host_egl=
fi
chroot "$R" /sbin/ldconfig
# The trixie client userspace, if bundled: its own root inside the sid one,
# sharing /tmp (the vtest socket) and /pv (our programs, the WSI layer).
T=
if [ -e "$carry/trixie-bench.tar.xz" ]; then
	T=$R/trixie
	mkdir -p "$T"
	xz -T0 -dc "$carry/trixie-bench.tar.xz" | tar -x -C "$T" || { log "FATAL: trixie unpack failed"; exit 1; }
	[ -n "$lvp_extra" ] && { xz -dc "$lvp_extra" | tar -x -C "$T" || exit 1; }
	mount --bind /dev "$T/dev"
	mount -t proc proc "$T/proc"
	mount --bind "$R/tmp" "$T/tmp"
	[ -z "$lvp_extra" ] && mount --bind -o ro /usr/local/nvidia "$T/usr/local/nvidia"
	mkdir -p "$T/pv"
	mount --bind -o ro "$R/pv" "$T/pv"
	chroot "$T" /sbin/ldconfig
fi
log "unpacked; model $(du -h "$R/model.gguf" | cut -f1); pv commit $(cat "$R/pv/commit" 2>/dev/null)"

tbo=$(cd "$R" && ls usr/libexec/x86_64-linux-gnu/llama.cpp-tests/test-backend-ops)
# ggml hides CPU-type devices (lavapipe) unless listed; harmless on NVIDIA.
common_env=(PATH=/usr/bin:/bin:/usr/sbin:/sbin HOME=/tmp LANG=C.UTF-8 GGML_VK_VISIBLE_DEVICES=0)
host_env=(VK_DRIVER_FILES=$host_icd LD_LIBRARY_PATH=$host_ld)
[ -n "$host_egl" ] && host_env+=(__EGL_VENDOR_LIBRARY_FILENAMES=$host_egl)
# PV_VN_DEBUG: the guest driver's VN_DEBUG (e.g. init,result,wsi,vtest).
venus_env=(VK_DRIVER_FILES=/usr/share/vulkan/icd.d/virtio_icd.json VN_DEBUG=${PV_VN_DEBUG:-vtest,init,result}
	VTEST_SOCKET_NAME=/tmp/vtest.sock)

# crun SECONDS LOGFILE ENV... -- PROGRAM ARGS...: run in the chroot.
crun() {
	local t=$1 lf=$2; shift 2
	local envs=()
	while [ "$1" != -- ]; do envs+=("$1"); shift; done
	shift
	echo "+ [$t s] ${envs[*]} $*" >>"$lf"
	local rc
	if [ -n "${crun_times:-}" ]; then
		# In a subshell whose `times` then gives the program's CPU (each
		# parent on the way waited for its child).
		(
			timeout -k 5 "$t" env -i "${common_env[@]}" "${envs[@]}" chroot "${croot:-$R}" "$@" >>"$lf" 2>&1
			rc=$?
			times >"$crun_times"
			exit $rc
		)
	else
		timeout -k 5 "$t" env -i "${common_env[@]}" "${envs[@]}" chroot "${croot:-$R}" "$@" >>"$lf" 2>&1
	fi
	rc=$?
	echo "+ exit $rc" >>"$lf"
	return $rc
}

# ---- servers ----------------------------------------------------------------
srv_pid=
srv_log=
# start_server pearvisor|pearvisor_spin|virgl LOG: a fresh server per
# client program, so one program's failure cannot leak into the next.
# srv_env: extra environment for the server (tracing for the micro runs).
srv_env=()
# srv_wrap: a command the server runs under (the perf workload's profiler).
srv_wrap=()
start_server() {
	local kind=$1
	srv_log=$2
	rm -f "$R/tmp/vtest.sock"
	local cmd senv=("${srv_env[@]}")
	case $kind in
	pearvisor | pearvisor_spin | pearvisor_alt | pearvisor_alt2)
		cmd=("${srv_wrap[@]}" /pv/pearvisor gpu-server --socket /tmp/vtest.sock --device 0)
		[ "$kind" = pearvisor_spin ] && senv+=("PEARVISOR_VENUS_SPIN_US=${PV_SPIN_US:-200}")
		# shellcheck disable=SC2206
		[ "$kind" = pearvisor_alt ] && senv+=(${PV_ALT_ENV:-})
		# shellcheck disable=SC2206
		[ "$kind" = pearvisor_alt2 ] && senv+=(${PV_ALT2_ENV:-})
		# An A/B build: pv/pearvisor.alt, if bundled, serves pearvisor_alt2.
		[ "$kind" = pearvisor_alt2 ] && [ -x "$R/pv/pearvisor.alt" ] &&
			cmd=("${srv_wrap[@]}" /pv/pearvisor.alt gpu-server --socket /tmp/vtest.sock --device 0)
		;;
	virgl) cmd=(/usr/bin/virgl_test_server --venus --no-virgl --socket-path=/tmp/vtest.sock) ;;
	esac
	echo "+ server: ${cmd[*]}" >>"$srv_log"
	# A server outlives its one client: bound it by the budget, not by a
	# fixed cap shorter than a long client's (tbotest's).
	timeout -k 5 "$(cap "${PV_SERVER_CAP_S:-590}")" env -i "${common_env[@]}" "${host_env[@]}" "${senv[@]}" PEARVISOR_LOG=${PEARVISOR_LOG:-info} \
		LD_LIBRARY_PATH="${host_ld:+$host_ld:}/pv/lib" \
		chroot "$R" "${cmd[@]}" >>"$srv_log" 2>&1 &
	srv_pid=$!
	for _ in $(seq 100); do
		[ -S "$R/tmp/vtest.sock" ] && return 0
		kill -0 "$srv_pid" 2>/dev/null || break
		sleep 0.1
	done
	echo "+ server did not come up" >>"$srv_log"
	return 1
}
stop_server() {
	[ -n "$srv_pid" ] || return 0
	kill "$srv_pid" 2>/dev/null
	wait "$srv_pid" 2>/dev/null
	srv_pid=
}

# keep_warm start|stop: a lowest-priority (SCHED_IDLE) busy loop per CPU
# for the *_warm modes; any other thread preempts one at once.
warm_pids=()
keep_warm() {
	if [ "$1" = start ]; then
		local i
		for i in $(seq "$(nproc)"); do
			chrt -i 0 sh -c 'while :; do :; done' &
			warm_pids+=($!)
		done
	elif [ "${#warm_pids[@]}" -gt 0 ]; then
		kill "${warm_pids[@]}" 2>/dev/null
		wait "${warm_pids[@]}" 2>/dev/null
		warm_pids=()
	fi
}

# client MODE T LOG [ENV...] -- PROG ARGS: run one program in a mode.
client() {
	local mode=$1 t=$2 lf=$3; shift 3
	case $mode in *_warm)
		keep_warm start
		log_tag=$mode client "${mode%_warm}" "$t" "$lf" "$@"
		local wrc=$?
		keep_warm stop
		return $wrc ;;
	esac
	local envs=()
	while [ "$1" != -- ]; do envs+=("$1"); shift; done
	shift
	# PV_ALT_VN_PERF: Mesa Venus perf options (VN_PERF, comma-separated)
	# for pearvisor_alt's guest side, merged into any the workload sets;
	# e.g. no_cmd_batching sends each recorded command to the ring at once,
	# so the server replays while the guest records.
	if [ "${mode%_trixie}" = pearvisor_alt ] && [ -n "${PV_ALT_VN_PERF:-}" ]; then
		local i merged=no
		for i in "${!envs[@]}"; do
			case ${envs[$i]} in VN_PERF=*) envs[i]="${envs[$i]},$PV_ALT_VN_PERF"; merged=yes ;; esac
		done
		[ "$merged" = yes ] || envs+=("VN_PERF=$PV_ALT_VN_PERF")
	fi
	# PV_ALT_CLIENT_ENV / PV_ALT2_CLIENT_ENV: more guest-side environment
	# (space-separated VAR=value) for pearvisor_alt / pearvisor_alt2, e.g.
	# MESA_VK_WSI_DEBUG=linear.
	# shellcheck disable=SC2206
	case ${mode%_trixie} in
	pearvisor_alt) envs+=(${PV_ALT_CLIENT_ENV:-}) ;;
	pearvisor_alt2) envs+=(${PV_ALT2_CLIENT_ENV:-}) ;;
	esac
	# *_trixie: the same mode with the client in the trixie root (crun
	# reads croot).
	local rc base=$mode croot=$R
	case $mode in *_trixie)
		[ -n "$T" ] || { echo "+ no trixie userspace in the bundle" >>"$lf"; return 1; }
		base=${mode%_trixie} croot=$T ;;
	esac
	case $base in
	native) crun "$(cap "$t")" "$lf" "${host_env[@]}" "${envs[@]}" -- "$@"; rc=$? ;;
	native_nocm2) crun "$(cap "$t")" "$lf" "${host_env[@]}" GGML_VK_DISABLE_COOPMAT2=1 "${envs[@]}" -- "$@"; rc=$? ;;
	native_novidmem) crun "$(cap "$t")" "$lf" "${host_env[@]}" GGML_VK_DISABLE_HOST_VISIBLE_VIDMEM=1 "${envs[@]}" -- "$@"; rc=$? ;;
	native_likevenus) crun "$(cap "$t")" "$lf" "${host_env[@]}" GGML_VK_DISABLE_COOPMAT2=1 \
		GGML_VK_DISABLE_HOST_VISIBLE_VIDMEM=1 "${envs[@]}" -- "$@"; rc=$? ;;
	pearvisor | pearvisor_spin | pearvisor_alt | pearvisor_alt2 | virgl)
		# log_tag: the mode's own name where it differs (*_warm).
		if ! start_server "$base" "$OUT/server-${log_tag:-$mode}.log"; then
			echo "+ no server" >>"$lf"
			return 1
		fi
		echo "+ (server log: server-${log_tag:-$mode}.log)" >>"$lf"
		echo "==== client: $* ($(basename "$lf"))" >>"$srv_log"
		crun "$(cap "$t")" "$lf" "${venus_env[@]}" "${envs[@]}" -- "$@"
		rc=$?
		stop_server
		;;
	esac
	return $rc
}

# ---- workloads ----------------------------------------------------------------
run_vulkaninfo() {
	local mode=$1
	client "$mode" 30 "$OUT/$mode.log" -- /usr/bin/vulkaninfo --summary
}

# The full vulkaninfo (extension lists, external-handle properties), for
# finding out why a guest driver hides an extension on this host.
run_vulkaninfo_full() {
	local mode=$1
	client "$mode" 60 "$OUT/vulkaninfo-$mode.log" -- /usr/bin/vulkaninfo
}

# run_micro MODE [DEST]: vn-micro's results as rows of DEST (default
# results.tsv): name, mode, median us, p99 us.
run_micro() {
	local mode=$1 dest=${2:-$results} lf=$OUT/$1.log n=2000
	[ "$quick" = 1 ] && n=300
	local before
	before=0
	[ -f "$lf" ] && before=$(wc -l <"$lf")
	local base=${mode%_warm}
	if [ "${base%_trixie}" = native ]; then
		client "$mode" 60 "$lf" -- /pv/vn-micro all -n "$n"
		tail -n +"$((before + 1))" "$lf" | awk -v m="$mode" '/^RESULT/ {
			split($3, a, "="); split($4, b, "=");
			print "micro:" $2 "\t" m "\t" a[2] "\t" b[2] }' >>"$dest"
		return
	fi
	# PV_MICRO_TRACE=1: the server traces its hand-offs
	# (docs/venus-renderer.md), the distributions landing in its log at
	# each disconnect. Off by default since session 11: tracing takes
	# clock reads and a lock per replayed command, which the record
	# micro then counts (runs up to 34 were traced).
	srv_env=()
	[ "${PV_MICRO_TRACE:-0}" = 1 ] && srv_env=(PEARVISOR_VENUS_TRACE=1)
	# Fence feedback off: every vkGetFenceStatus is a guest->host round trip.
	client "$mode" 60 "$lf" VN_PERF=no_fence_feedback -- /pv/vn-micro all -n "$n"
	tail -n +"$((before + 1))" "$lf" | awk -v m="$mode" '/^RESULT/ {
		split($3, a, "="); split($4, b, "=");
		print "micro:" $2 "[no_fence_feedback]\t" m "\t" a[2] "\t" b[2] }' >>"$dest"
	before=$(wc -l <"$lf")
	client "$mode" 60 "$lf" -- /pv/vn-micro submit -n "$n"
	tail -n +"$((before + 1))" "$lf" | awk -v m="$mode" '/^RESULT/ {
		split($3, a, "="); split($4, b, "=");
		print "micro:" $2 "\t" m "\t" a[2] "\t" b[2] }' >>"$dest"
	srv_env=()
	grep -h ' trace ' "$OUT/server-$mode.log" >"$OUT/trace-$mode.txt" 2>/dev/null
}

# run_rounds NAME ROUNDS RUN [SKIP]: for each of ROUNDS rounds (2 with
# --quick), `RUN MODE ROWS ROUND` for every mode but those SKIP MODE
# accepts, in an order that rotates from round to round; each run's rows
# (written to the file ROWS) go, with the round, to $OUT/NAME-samples.tsv.
# Fails when no run left any row.
run_rounds() {
	local name=$1 rounds=$2 run=$3 skip=${4:-} r j mode tmp=$OUT/$1-round.tsv
	local -a ms
	read -r -a ms <<<"$modes"
	[ "$quick" = 1 ] && rounds=2
	for ((r = 0; r < rounds; r++)); do
		for ((j = 0; j < ${#ms[@]}; j++)); do
			mode=${ms[$(( (j + r) % ${#ms[@]} ))]}
			[ -n "$skip" ] && "$skip" "$mode" && continue
			: >"$tmp"
			"$run" "$mode" "$tmp" "$r"
			awk -v rd="$r" '{ print $0 "\t" rd }' "$tmp" >>"$OUT/$name-samples.tsv"
		done
		log "$name round $r done"
	done
	rm -f "$tmp"
	[ -s "$OUT/$name-samples.tsv" ]
}

# vn-micro in alternating rounds (PV_MICRO_ROUNDS, default 5), like
# llamarounds: one run of a mode moves by as much as an A/B's effect
# (session 11: record 1.29-2.42 us a group for one build), so each mode's
# figure is the median of its runs' medians. Every run's rows:
# $OUT/micro-samples.tsv (with the round).
run_micro_rounds() {
	run_rounds micro "${PV_MICRO_ROUNDS:-5}" run_micro || return 1
	awk -F'\t' "$awk_median"'
		{ k = $1 SUBSEP $2; keys[k] = 1; med[k] = med[k] " " $3; p99[k] = p99[k] " " $4; cnt[k]++ }
		END { for (k in keys) { split(k, kk, SUBSEP);
			printf "%s\t%s\t%.2f\t%.2f (medians of %d rounds)\n", kk[1], kk[2], median(med[k]), median(p99[k]), cnt[k] } }
	' "$OUT/micro-samples.tsv" | sort >>"$results"
}

# vkmark --winsys headless, every default scene, PV_VKMARK_DURATION s each,
# within PV_VKMARK_CAP s (default 120) per mode.
# Natively the headless surface and swapchain come from our layer
# (bench/headless-wsi: NVIDIA's driver has no VK_EXT_headless_surface), the
# same on every driver; through Venus from the guest's Mesa WSI.
run_vkmark() {
	local mode=$1 lf=$OUT/vkmark-$mode.log d=${PV_VKMARK_DURATION:-2} layer=() into=${2:-$results}
	[ "$quick" = 1 ] && d=1
	[ -n "${3:-}" ] && lf=$3
	case $mode in native*)
		layer=(VK_LAYER_PATH=/pv/headless-wsi VK_INSTANCE_LAYERS=VK_LAYER_PEARVISOR_headless_wsi
			PV_HEADLESS_WSI_DEBUG=1) ;;
	esac
	client "$mode" "${PV_VKMARK_CAP:-120}" "$lf" "${layer[@]}" -- /usr/bin/vkmark --winsys headless -s 800x600 -b ":duration=$d"
	awk -v m="$mode" '/^\[.*FPS:/ { sc=$0; sub(/: FPS:.*/, "", sc); gsub(/ /, "", sc);
		f=$0; sub(/.*FPS: */, "", f); sub(/ .*/, "", f);
		print "vkmark:" sc "\t" m "\t" f "\tFPS" }
		/vkmark Score:/ { print "vkmark:Score\t" m "\t" $NF "\tscore" }' "$lf" >>"$into"
}

# vkmark in alternating rounds (PV_VKMARK_ROUNDS, default 3), like
# microrounds: within one call a mode's Score moved by as much as the
# effects measured (session 11), so each figure is the median of the
# rounds'. Every run's rows: $OUT/vkmark-samples.tsv (with the round).
vkmark_round() {
	run_vkmark "$1" "$2" "$OUT/vkmark-$1-round$3.log"
}
run_vkmark_rounds() {
	run_rounds vkmark "${PV_VKMARK_ROUNDS:-3}" vkmark_round ggml_only || return 1
	awk -F'\t' "$awk_median"'
		{ k = $1 SUBSEP $2; keys[k] = 1; v[k] = v[k] " " $3; unit[k] = $4; cnt[k]++ }
		END { for (k in keys) { split(k, kk, SUBSEP);
			printf "%s\t%s\t%.0f\t%s (median of %d rounds)\n", kk[1], kk[2], median(v[k]), unit[k], cnt[k] } }
	' "$OUT/vkmark-samples.tsv" | sort >>"$results"
}

run_llama_bench() {
	local mode=$1 lf=$OUT/$mode.log args="-p 512 -n 128 -r 3" t=150
	[ "$quick" = 1 ] && args="-p 32 -n 4 -r 1" t=60
	local before
	before=0
	[ -f "$lf" ] && before=$(wc -l <"$lf")
	# shellcheck disable=SC2086
	client "$mode" "$t" "$lf" -- /usr/bin/llama-bench -m /model.gguf $args -ngl 99 -dev Vulkan0 -o md
	# | model | size | params | backend | ngl | test | t/s |
	tail -n +"$((before + 1))" "$lf" | awk -F'|' -v m="$mode" '
		NF > 3 && $(NF-2) ~ /(pp|tg)[0-9]+/ { t=$(NF-2); v=$(NF-1); gsub(/ /, "", t);
			split(v, a, "±"); gsub(/ /, "", a[1]); gsub(/ /, "", a[2]);
			print "llama-bench:" t "\t" m "\t" a[1] "\t" a[2] }' >>"$results"
}

# llama-bench in alternating rounds: each round runs every mode once, in an
# order that rotates from round to round, and keeps every sample of every
# run (-r PV_LLAMA_REPS). A mode's figure is the median of all its samples,
# so GPU clock drift between runs lands on all modes alike instead of on
# whichever ran last. Models: PV_BENCH_MODELS (1.1b, and 7b etc. where the
# bundle has model-SHAPE.gguf). PV_LLAMA_ARGS: more llama-bench options
# (e.g. "-fa 0,1"); with it, tests are named by flash attention (pp512-fa0). Samples: $OUT/samples.tsv (model, test,
# mode, round, t/s); medians and ratios: $OUT/llama-rounds.txt.
run_llama_rounds() {
	local rounds=${PV_BENCH_ROUNDS:-3} reps=${PV_LLAMA_REPS:-5} t=${PV_LLAMA_CAP:-150}
	local pn=(-p 512 -n 128)
	[ "$quick" = 1 ] && rounds=1 reps=1 pn=(-p 32 -n 4)
	local -a ms
	local m0
	for m0 in $modes; do
		case $m0 in *_trixie) ;; *) ms+=("$m0") ;; esac
	done
	local model mf r j mode lf before
	for model in ${PV_BENCH_MODELS:-1.1b}; do
		mf=/model.gguf
		[ "$model" != 1.1b ] && mf=/model-$model.gguf
		[ -e "$R$mf" ] || { log "llama rounds: no $mf in the bundle"; continue; }
		for ((r = 0; r < rounds; r++)); do
			for ((j = 0; j < ${#ms[@]}; j++)); do
				mode=${ms[$(( (j + r) % ${#ms[@]} ))]}
				lf=$OUT/llama-$model-$mode.log
				before=$(wc -l 2>/dev/null <"$lf" || echo 0)
				# shellcheck disable=SC2086 # PV_LLAMA_ARGS: extra llama-bench options
				client "$mode" "$t" "$lf" -- /usr/bin/llama-bench -m "$mf" "${pn[@]}" \
					-r "$reps" -ngl 99 -dev Vulkan0 -o jsonl ${PV_LLAMA_ARGS:-}
				log "llama $model round $r $mode rc=$?"
				tail -n +"$((before + 1))" "$lf" | awk -v m="$mode" -v md="$model" -v rd="$r" \
					-v fa="${PV_LLAMA_ARGS:+1}" '
					/"samples_ts": \[/ {
						np = substr($0, index($0, "\"n_prompt\": ") + 12) + 0;
						ng = substr($0, index($0, "\"n_gen\": ") + 9) + 0;
						t = np > 0 ? "pp" np : "tg" ng;
						# With extra options (e.g. -fa 0,1) a test runs in
						# variants: name them by flash attention.
						if (fa) t = t "-fa" (substr($0, index($0, "\"flash_attn\": ") + 14) + 0);
						s = substr($0, index($0, "\"samples_ts\": [") + 15);
						s = substr(s, 1, index(s, "]") - 1);
						n = split(s, a, ",");
						for (i = 1; i <= n; i++) { v = a[i] + 0; if (v > 0) print md "\t" t "\t" m "\t" rd "\t" v }
					}' >>"$OUT/samples.tsv"
			done
		done
	done
	[ -s "$OUT/samples.tsv" ] || return 1
	# Medians per (model, test, mode) and per round; the ratio of a mode to
	# native is given as the ratio of the medians, and as the median of the
	# per-round ratios (both should agree when the run is steady). The
	# device's GPU drops to a low clock in bursts that hit whichever mode
	# runs then (run 41: pp512 samples of 10.5k t/s beside 33k), so each
	# line also gives the "steady" median: of the mode's samples at least
	# 70% of its own 90th percentile (a mode slow throughout keeps all of
	# its samples), with how many were kept.
	awk -F'\t' "$awk_median"'
		function pct90(list,   n, a, i, j, x) {
			n = split(list, a, " ");
			for (i = 2; i <= n; i++) { x = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > x; j--) a[j + 1] = a[j]; a[j + 1] = x }
			return a[int(0.9 * (n - 1)) + 1];
		}
		function steady(list,   n, a, i, lim, out) {
			lim = 0.7 * pct90(list); n = split(list, a, " "); out = ""; kept = 0;
			for (i = 1; i <= n; i++) if (a[i] + 0 >= lim) { out = out " " a[i]; kept++ }
			return median(out);
		}
		{ k = $1 SUBSEP $2; keys[k] = 1; modes[$3] = 1; rounds[$4] = 1;
		  all[k, $3] = all[k, $3] " " $5; per[k, $3, $4] = per[k, $3, $4] " " $5; cnt[k, $3]++ }
		END {
			for (k in keys) {
				split(k, kk, SUBSEP);
				if (all[k, "native"] == "") continue;
				nat = median(all[k, "native"]); snat = steady(all[k, "native"]);
				printf "llama-bench:%s:%s\tnative\t%.2f\t%d samples; steady %.2f (%d kept)\n", kk[1], kk[2], nat,
					cnt[k, "native"], snat, kept >"/dev/stderr";
				for (m in modes) {
					if (m == "native" || all[k, m] == "") continue;
					med = median(all[k, m]); rl = "";
					for (r in rounds)
						if (per[k, m, r] != "" && per[k, "native", r] != "")
							rl = rl " " median(per[k, m, r]) / median(per[k, "native", r]);
					sm = steady(all[k, m]);
					printf "llama-bench:%s:%s\t%s\t%.2f\t%d samples; %.1f%% of native (median of per-round ratios %.1f%%); steady %.2f (%d kept), %.1f%% of native steady\n",
						kk[1], kk[2], m, med, cnt[k, m], 100 * med / nat, 100 * median(rl), sm, kept,
						100 * sm / snat >"/dev/stderr";
				}
			}
		}' "$OUT/samples.tsv" 2>&1 | sort >"$OUT/llama-rounds.txt"
	awk -F'\t' '{ print $1 "\t" $2 "\t" $3 "\tt/s (median)" }' "$OUT/llama-rounds.txt" >>"$results"
	cat "$OUT/llama-rounds.txt"
}

# test-backend-ops perf: one line per case, "... : N runs - X us/run - ..."
tbo_ops="MUL_MAT SOFT_MAX FLASH_ATTN_EXT"
run_tbo() {
	local mode=$1 op=$2 t=$3
	shift 3
	local lf=$OUT/tbo-$op-$mode.log
	client "$mode" "$t" "$lf" -- "/$tbo" perf -b Vulkan0 -o "$op" "$@"
	awk -v m="$mode" '/us\/run/ {
		c=$0; sub(/^[ \t]+/, "", c); sub(/\):.*/, ")", c);
		for (i = 1; i <= NF; i++) if ($i == "us/run") v=$(i-1);
		print "tbo:" c "\t" m "\t" v "\tus/run" }' "$lf" >>"$results"
}

# test-backend-ops in test mode: every op and case, each checked against
# the CPU backend (not timed; PV_TBOTEST_CAP_S bounds it). A run counts as
# completed only when the final verdict line was printed.
run_tbotest() {
	local mode=$1 lf=$OUT/tbotest-$1.log
	client "$mode" "${PV_TBOTEST_CAP_S:-240}" "$lf" -- "/$tbo" test -b Vulkan0
	local done=0
	grep -qE '[0-9]+/[0-9]+ backends passed' "$lf" && done=1
	record "tbotest:completed" "$mode" "$done" "1=yes"
	record "tbotest:ok" "$mode" "$(grep -c 'OK' "$lf")" "cases"
	record "tbotest:fail" "$mode" "$(grep -c 'FAIL' "$lf")" "cases"
	grep -E 'tests passed|backends passed' "$lf" | sed "s/^/$mode: /" >>"$OUT/tbotest-verdicts.txt"
}

# Where the server's CPU time goes (flat profile by symbol, every server
# process): command-buffer replay (vn-micro record) and llama.cpp token
# generation, each under its own perf record. Needs perf.tar.xz.
run_perf() {
	local mode=$1 w
	[ -x "$R/perf/perf" ] || { log "perf: not bundled"; return 1; }
	for w in ${PV_PERF_WORKLOADS:-record llama}; do
		# ld.so --library-path: perf's libraries for perf alone, never
		# for the server it starts (the bundle has no shell).
		# PV_PERF_DELAY_MS: start sampling this late (past model load and
		# pipeline compilation, to profile the steady state alone).
		srv_wrap=(/lib64/ld-linux-x86-64.so.2 --library-path /perf/lib /perf/perf record -q
			  -e cpu-clock -F 4999 -D "${PV_PERF_DELAY_MS:-0}" -o "/tmp/perf-$w.data" --)
		if [ $w = record ]; then
			client "$mode" 60 "$OUT/perf-$w-$mode.log" -- /pv/vn-micro record -n "${PV_PERF_RECORD_N:-20000}"
		else
			# PV_PERF_LLAMA_ARGS: the llama-bench test to profile.
			# shellcheck disable=SC2086
			client "$mode" 90 "$OUT/perf-$w-$mode.log" -- /usr/bin/llama-bench -m /model.gguf \
				${PV_PERF_LLAMA_ARGS:--p 0 -n 128 -r 2} -ngl 99 -dev Vulkan0
		fi
		srv_wrap=()
		# The server outlives a SIGTERMed perf: stop it too.
		pkill -TERM -f "^/pv/pearvisor gpu-server" 2>/dev/null
		sleep 1
		chroot "$R" /lib64/ld-linux-x86-64.so.2 --library-path /perf/lib /perf/perf report \
			-i "/tmp/perf-$w.data" --no-children --sort comm,dso,sym --stdio 2>&1 |
			grep -v '^#' | grep -v '^$' | head -400 >"$OUT/perf-$w-$mode.txt"
	done
}

# traced MODE NAME TRACE_LINES TIMELINE_PREFIX -- PROG ARGS: runs a client
# with the server tracing (PEARVISOR_VENUS_TRACE) and writing its vtest
# timeline; keeps the trace's last lines and the timelines (xz) in $OUT.
traced() {
	local mode=$1 name=$2 lines=$3 tlp=$4 f
	shift 4
	rm -rf "$R/tmp/tl" && mkdir -p "$R/tmp/tl"
	# untraced=1: the timeline alone, without the per-command trace (two
	# clock reads and a lock per replayed command), to time replay as it
	# runs.
	srv_env=(PEARVISOR_VTEST_TIMELINE=/tmp/tl)
	[ "${untraced:-0}" = 1 ] || srv_env+=(PEARVISOR_VENUS_TRACE=1)
	client "$mode" 60 "$OUT/$name-$mode.log" "$@"
	srv_env=()
	[ "$lines" -gt 0 ] &&
		grep -h ' trace ' "$OUT/server-$mode.log" | tail -n "$lines" >"$OUT/trace-${name%trace}-$mode.txt"
	for f in "$R"/tmp/tl/*.tl; do
		[ -e "$f" ] && xz -T2 -c "$f" >"$OUT/$tlp-$mode-$(basename "$f").xz"
	done
}

# Where a vkmark frame's time goes: the server's event timeline of a
# short run of three scenes (per-frame breakdown:
# bench/h100/vtest-gaps.py, run where the results land).
run_vkmarktrace() {
	local mode=$1
	ours "$mode" || return 0
	traced "$mode" vkmarktrace 60 vkmark-timeline -- /usr/bin/vkmark --winsys headless -s 800x600 \
		-b clear:duration=2 -b cube:duration=2 -b shading:shading=phong:duration=2
	log "$mode: traced vkmark"
}

# What bounds a vkmark frame through our server whatever the server does:
# every default scene run alone (PV_BOUND_S seconds, default 2) with the
# server's event timeline (no per-command trace), saved as
# vkmark-bound-N-MODE-client-1.tl.xz beside its log vkmarkbound-N-MODE.log.
# bench/h100/vtest-gaps.py then splits each scene's frame into the
# server's time and the guest's own (bench/h100/vkmark-bound.py does all).
VKMARK_SCENES="vertex:device-local=true vertex:device-local=false texture:anisotropy=0
texture:anisotropy=16 shading:shading=gouraud shading:shading=blinn-phong-inf shading:shading=phong
shading:shading=cel effect2d:kernel=edge effect2d:kernel=blur desktop cube clear"
run_vkmark_bound() {
	local mode=$1 n=0 sc d=${PV_BOUND_S:-2}
	[ "$quick" = 1 ] && d=1
	ours "$mode" || return 0
	for sc in $VKMARK_SCENES; do
		untraced=1 traced "$mode" "vkmarkbound-$n" 0 "vkmark-bound-$n" -- /usr/bin/vkmark --winsys headless \
			-s 800x600 -b "$sc:duration=$d"
		n=$((n + 1))
		[ "$quick" = 1 ] && [ $n -ge 2 ] && break
	done
	log "$mode: vkmark scenes one by one with timelines ($n)"
}

# cpu_figures TIMES SERVERLOG FROM_LINE: a finished client's CPU (from
# `times` in TIMES) and, through our server, its threads' figures logged
# when they stop (ring: time replaying, CPU and batches; fence threads: CPU;
# vtest thread: time handling messages, CPU, and the counts of the message
# kinds a frame or token is made of), as "key value" lines.
cpu_figures() {
	local tf=$1 sl=$2 before=$3
	# Client CPU: `times`' second line, "XmY.YYYs XmZ.ZZZs".
	awk 'NR == 2 { for (i = 1; i <= 2; i++) { split($i, a, "m"); sub(/s/, "", a[2]); c += a[1] * 60 + a[2] } }
		END { printf "client_cpu_ms %.1f\n", c * 1000 }' "$tf"
	[ -e "$sl" ] || return 0
	tail -n +"$((before + 1))" "$sl" | awk '
		/ ring [0-9]+: .* batches/ { for (i = 1; i <= NF; i++) {
			if ($(i+1) == "batches") nb += $i;
			if ($(i+1) == "ms" && $(i+2) ~ /^replaying/) rb += $i;
			if ($(i+1) == "ms" && $(i+2) ~ /^CPU/) rc += $i } }
		/ fence timeline [0-9]+: / { for (i = 1; i <= NF; i++) if ($(i+1) == "ms" && $(i+2) ~ /^CPU/) fc += $i }
		/vtest: client .* messages:/ { for (i = 1; i <= NF; i++) {
			if ($i == "SYNC_WAIT") sw += $(i+1);
			if ($i == "SYNC_READ") sr += $(i+1);
			if ($i == "SUBMIT_CMD2") sc += $(i+1);
			if ($i == "SYNC_WRITE") sy += $(i+1);
			if ($(i+1) == "ms" && $(i+2) == "handling") vb += $i;
			if ($(i+1) == "ms" && $(i+2) ~ /^CPU/) vc += $i } }
		END { printf "ring_busy_ms %.1f\nring_cpu_ms %.1f\nfence_cpu_ms %.1f\nvtest_busy_ms %.1f\nvtest_cpu_ms %.1f\n", rb, rc, fc, vb, vc;
			printf "ring_batches_k %.3f\nsync_waits_k %.3f\nsync_reads_k %.3f\nsubmits_k %.3f\nsync_writes_k %.3f\n", nb / 1000, sw / 1000, sr / 1000, sc / 1000, sy / 1000 }'
}

# cpu_per_unit MODE RAW OUT N0 N1 WHAT RATE_KEY: the differences per unit
# (token or frame) between the N0 and N1 runs of cpu_figures' figures in RAW
# (lines "MODE N KEY VALUE"), which cancel loading and warm-up, as one line
# of OUT; the *_ms figures per unit in µs, the *_k counts per unit.
cpu_per_unit() {
	awk -v m="$1" -v n0="$4" -v n1="$5" -v what="$6" -v rk="$7" '
		$1 == m { v[$2, $3] = $4; k[$3] = 1 }
		END {
			rate = v[n1, rk]; per = rate > 0 ? 1e6 / rate : 0;
			printf "%-16s %s %8.1f %s/s  period %7.1f us/%s", m, what, rate, what, per, what;
			split("client_cpu_ms ring_busy_ms ring_cpu_ms fence_cpu_ms vtest_busy_ms vtest_cpu_ms ring_batches_k sync_waits_k sync_reads_k submits_k sync_writes_k", ks, " ");
			for (i = 1; i <= 11; i++) { kk = ks[i]; if (!(kk in k)) continue;
				d = (v[n1, kk] - v[n0, kk]) * 1000 / (n1 - n0);
				name = kk; sub(/_ms$|_k$/, "", name);
				if (m ~ /^native/ && name != "client_cpu") continue;
				printf (kk ~ /_k$/ ? "  %s %.2f" : "  %s %.1f"), name, d }
			printf " (us or count per %s)\n", what }' "$2" >>"$3"
}

# Where a generated token's CPU goes: llama-bench tg runs of 32 and 32 + N
# tokens (PV_CPU_TOKENS, default 256) per mode, cpu_figures per token. Against
# the period (1e6 / t/s) they say whether a token waits on replay, on the
# guest, or on neither (round trips). Rows: $OUT/llamacpu.txt.
run_llama_cpu() {
	local mode=$1 n0=32 n n1 lf before tf=$OUT/llamacpu-times.tmp
	n1=$((n0 + ${PV_CPU_TOKENS:-256}))
	[ "$quick" = 1 ] && n0=4 n1=12
	local sl=$OUT/server-$mode.log
	for n in $n0 $n1; do
		lf=$OUT/llamacpu-$mode-$n.log
		before=$(wc -l 2>/dev/null <"$sl" || echo 0)
		crun_times=$tf client "$mode" 120 "$lf" -- /usr/bin/llama-bench -m /model.gguf -p 0 -n "$n" \
			-r 1 -ngl 99 -dev Vulkan0 -o md
		{
			cpu_figures "$tf" "$sl" "$before"
			awk -F'|' 'NF > 3 && $(NF-2) ~ /tg[0-9]+/ { v = $(NF-1); split(v, a, "±"); gsub(/ /, "", a[1]); print "tps " a[1] }' "$lf"
		} | sed "s/^/$mode $n /" >>"$OUT/llamacpu-raw.txt"
	done
	rm -f "$tf"
	cpu_per_unit "$mode" "$OUT/llamacpu-raw.txt" "$OUT/llamacpu.txt" "$n0" "$n1" token tps
}

# The same per vkmark frame: one scene (PV_CPU_SCENE, default clear, the
# lightest, where a frame's fixed costs show most) for 1 and 1 + N seconds
# (PV_CPU_VKMARK_S, default 3); a run's frames are its FPS x seconds. Rows:
# $OUT/vkmarkcpu.txt.
run_vkmark_cpu() {
	local mode=$1 d0=1 d1 d lf before fps frames tf=$OUT/vkmarkcpu-times.tmp layer=() fr=()
	d1=$((d0 + ${PV_CPU_VKMARK_S:-3}))
	local sl=$OUT/server-$mode.log
	case $mode in native*)
		layer=(VK_LAYER_PATH=/pv/headless-wsi VK_INSTANCE_LAYERS=VK_LAYER_PEARVISOR_headless_wsi) ;;
	esac
	for d in $d0 $d1; do
		lf=$OUT/vkmarkcpu-$mode-$d.log
		before=$(wc -l 2>/dev/null <"$sl" || echo 0)
		crun_times=$tf client "$mode" 60 "$lf" "${layer[@]}" -- /usr/bin/vkmark --winsys headless -s 800x600 \
			-b "${PV_CPU_SCENE:-clear}:duration=$d"
		fps=$(awk '/FPS:/ { f = $0; sub(/.*FPS: */, "", f); sub(/ .*/, "", f); print f; exit }' "$lf")
		[ -n "$fps" ] || { echo "$mode: no FPS in $(basename "$lf")" >>"$OUT/vkmarkcpu.txt"; rm -f "$tf"; return 1; }
		frames=$(awk -v f="$fps" -v d="$d" 'BEGIN { printf "%d", f * d }')
		fr+=("$frames")
		{
			cpu_figures "$tf" "$sl" "$before"
			echo "fps $fps"
		} | sed "s/^/$mode $frames /" >>"$OUT/vkmarkcpu-raw.txt"
	done
	rm -f "$tf"
	cpu_per_unit "$mode" "$OUT/vkmarkcpu-raw.txt" "$OUT/vkmarkcpu.txt" "${fr[0]}" "${fr[1]}" frame fps
}

# PV_BENCH_WORKLOADS: which of "info infofull micro microrounds floor llama
# llamacpu llamaops llamarounds llamatimeline llamatrace tbo tbotest perf vkmark
# vkmarkbound vkmarkcpu vkmarkrounds vkmarktrace waketimeline" to run;
# microrounds, vkmarkrounds and llamarounds run after all the per-mode
# workloads.
workloads=" ${PV_BENCH_WORKLOADS:-info micro llama tbo vkmark} "
want() { case $workloads in *" $1 "*) return 0 ;; esac; return 1; }
# Modes whose client talks to our server (the trace workloads read its log).
ours() { case $1 in native* | virgl*) return 1 ;; esac; return 0; }
# Native variants that only change ggml's choices: llama workloads alone.
ggml_only() { case $1 in native_nocm2 | native_novidmem | native_likevenus) return 0 ;; esac; return 1; }
run_mode() {
	local mode=$1
	log "== $mode"
	if ! ggml_only "$mode"; then
		want info && { run_vulkaninfo "$mode"; log "$mode: vulkaninfo rc=$?"; }
		want infofull && { run_vulkaninfo_full "$mode"; log "$mode: full vulkaninfo rc=$?"; }
		want micro && { run_micro "$mode"; log "$mode: micro done"; }
		want vkmark && { run_vkmark "$mode"; log "$mode: vkmark rc=$?"; }
		want vkmarkcpu && { run_vkmark_cpu "$mode"; log "$mode: vkmark CPU per frame rc=$?"; }
		want vkmarkbound && run_vkmark_bound "$mode"
	fi
	# The trixie userspace has no llama.cpp: its modes stop at vkmark (and
	# its trace, below).
	local llama_ok=1
	case $mode in *_trixie) llama_ok=0 ;; esac
	if [ $llama_ok = 0 ]; then
		want vkmarktrace || return 0
		run_vkmarktrace "$mode"
		return 0
	fi
	want llama && { run_llama_bench "$mode"; log "$mode: llama-bench rc=$?"; }
	want llamacpu && { run_llama_cpu "$mode"; log "$mode: llama CPU per token rc=$?"; }
	# ggml's own GPU timestamps per op (GGML_VK_PERF_LOGGER): whether a
	# gap is the GPU's kernels or the time between them
	# (bench/h100/ggml-ops.py compares the modes' logs).
	# PV_OPS_LLAMA_ARGS: the llama-bench test (default pp512, once).
	if want llamaops; then
		local oa="-p 512 -n 0 -r 1"
		[ "$quick" = 1 ] && oa="-p 8 -n 0 -r 1"
		# shellcheck disable=SC2086
		client "$mode" 120 "$OUT/llamaops-$mode.log" GGML_VK_PERF_LOGGER=1 -- \
			/usr/bin/llama-bench -m /model.gguf ${PV_OPS_LLAMA_ARGS:-$oa} \
			-ngl 99 -dev Vulkan0 -o md
		log "$mode: llama-bench with ggml's per-op GPU timings rc=$?"
	fi
	want tbotest && { run_tbotest "$mode"; log "$mode: test-backend-ops test rc=$?"; }
	if want perf && [ "$mode" = pearvisor ]; then run_perf "$mode"; log "$mode: perf rc=$?"; fi
	# Where token generation's time goes in the server (not recorded as a
	# result: tracing has a cost of its own).
	if want llamatrace && ours "$mode"; then
		# With the server's event timeline of the client (per-graph
		# breakdown: bench/h100/timeline.py, run where the results land).
		traced "$mode" llamatrace 24 timeline -- /usr/bin/llama-bench -m /model.gguf -p 0 -n 128 -r 1 -ngl 99 -dev Vulkan0 -o md
		log "$mode: traced llama-bench tg64"
	fi
	# The same timeline with replay untraced, plus the ring's batches and
	# the host queue calls: a token's critical path
	# (bench/h100/token-path.py, run where the results land).
	if want llamatimeline && ours "$mode"; then
		# PV_TIMELINE_LLAMA_ARGS: another test (e.g. '-p 512 -n 0 -r 3').
		local tn="-p 0 -n 128 -r 2"
		[ "$quick" = 1 ] && tn="-p 0 -n 8 -r 1"
		tn=${PV_TIMELINE_LLAMA_ARGS:-$tn}
		# shellcheck disable=SC2086
		untraced=1 traced "$mode" llamatimeline 0 token-timeline -- /usr/bin/llama-bench -m /model.gguf $tn -ngl 99 -dev Vulkan0 -o md
		log "$mode: llama-bench $tn with its timeline"
	fi
	want vkmarktrace && run_vkmarktrace "$mode"
	# The path of a call after an idle spell, event by event
	# (bench/h100/wake-path.py, run where the results land).
	if want waketimeline && ours "$mode"; then
		untraced=1 traced "$mode" waketimeline 0 wake-timeline -- /pv/vn-micro wake -n 300
		log "$mode: vn-micro wake with its timeline"
	fi
	if want tbo; then
		# PV_TBO_OPS: which of the heavy ops to time (all three by default).
		local op cap
		for op in ${PV_TBO_OPS:-MUL_MAT SOFT_MAX FLASH_ATTN_EXT}; do
			case $op in
			MUL_MAT) cap=${PV_TBO_CAP_MUL_MAT:-100} ;;
			SOFT_MAX) cap=${PV_TBO_CAP_SOFT_MAX:-40} ;;
			*) cap=${PV_TBO_CAP_FA:-50} ;;
			esac
			[ "$quick" = 1 ] && { [ "$op" = MUL_MAT ] || continue; cap=30; }
			run_tbo "$mode" "$op" "$cap"; log "$mode: test-backend-ops $op rc=$?"
		done
	fi
}

if [ -z "$lvp_extra" ]; then
	{ command -v nvidia-smi >/dev/null && nvidia-smi || /usr/local/nvidia/bin/nvidia-smi; } >"$OUT/nvidia-smi.txt" 2>&1
	head -20 "$OUT/nvidia-smi.txt"
fi
modes=${PV_BENCH_MODES:-native pearvisor native_nocm2 virgl}
# The GPU idles in a low clock state: a first, unrecorded native run
# brings it up so the first mode is not penalised (seen: native pp32 at a
# third of its later value when it ran first).
if want llama || want llamarounds || want llamacpu || want llamaops || want tbo; then
	client native 60 "$OUT/warmup.log" -- /usr/bin/llama-bench -m /model.gguf -p 32 -n 4 -r 1 -ngl 99 -dev Vulkan0
	log "warm-up done (rc=$?)"
fi
# This host's own cost of a blocking round trip between two processes
# (vn-micro floor), under every synchronous Venus call whatever the server
# does; recorded in the native column.
if want floor; then
	crun 60 "$OUT/floor.log" -- /pv/vn-micro floor -n "$([ "$quick" = 1 ] && echo 2000 || echo 20000)"
	awk '/^RESULT/ { split($3, a, "="); split($4, b, "="); print "micro:" $2 "\tnative\t" a[2] "\t" b[2] }' \
		"$OUT/floor.log" >>"$results"
	log "host round-trip floor rc=$?"
fi
for mode in $modes; do
	run_mode "$mode"
done
want microrounds && { run_micro_rounds; log "micro rounds rc=$?"; }
want vkmarkrounds && { run_vkmark_rounds; log "vkmark rounds rc=$?"; }
want llamarounds && { run_llama_rounds; log "llama rounds rc=$?"; }

# ---- summary ----------------------------------------------------------------
# One column per mode, then each mode's ratio to native (and pearvisor's to
# native_nocm2 and to virgl). For rates (t/s, FPS, score) the ratio is
# mode/native; for times (us) native/mode: above 100% is always faster.
summary=$OUT/summary.txt
awk -F'\t' -v modes="$modes" '
	{ key[$1] = 1; v[$1, $2] = $3 }
	function rate(k) { return k ~ /^(llama-bench|vkmark)/ }
	function pct(k, m, base,   a, b) {
		a = v[k, m]; b = v[k, base];
		if (a == "" || b == "" || a + 0 == 0 || b + 0 == 0) return "-";
		return sprintf("%.1f%%", rate(k) ? 100 * a / b : 100 * b / a);
	}
	function val(k, m) { return v[k, m] == "" ? "-" : v[k, m] }
	# A trixie-client mode is compared with native trixie (same vkmark).
	# A *_warm mode with native_warm (the same host state).
	function base(m) {
		if (m ~ /_warm$/ && m != "native_warm") return "native_warm";
		return (m ~ /_trixie$/ && m != "native_trixie") ? "native_trixie" : "native"
	}
	END {
		nm = split(modes, M, " ");
		hdr = sprintf("%-64s", "workload");
		for (j = 1; j <= nm; j++) hdr = hdr sprintf(" %14s", M[j]);
		for (j = 1; j <= nm; j++) if (M[j] != "native") hdr = hdr sprintf(" %14s", substr(M[j] "/" (base(M[j]) == "native" ? "nat" : base(M[j]) == "native_warm" ? "nw" : "ntx"), 1, 14));
		hdr = hdr sprintf(" %10s %10s", "pv/nocm2", "pv/virgl");
		print hdr;
		n = 0;
		for (k in key) keys[++n] = k;
		split("llama-bench micro vkmark tbo", order, " ");
		for (pass = 1; pass <= 4; pass++)
			for (i = 1; i <= n; i++) {
				k = keys[i];
				if (index(k, order[pass] ":") != 1) continue;
				line = sprintf("%-64s", substr(k, 1, 64));
				for (j = 1; j <= nm; j++) line = line sprintf(" %14s", val(k, M[j]));
				for (j = 1; j <= nm; j++) if (M[j] != "native") line = line sprintf(" %14s", pct(k, M[j], base(M[j])));
				line = line sprintf(" %10s %10s", pct(k, "pearvisor", "native_nocm2"), pct(k, "pearvisor", "virgl"));
				print line;
			}
		# geometric mean of per-case speed relative to native, per op
		for (i = 1; i <= n; i++) {
			k = keys[i];
			if (k !~ /^tbo:/) continue;
			op = k; sub(/^tbo:/, "", op); sub(/\(.*/, "", op);
			ops[op] = 1;
			for (j = 1; j <= nm; j++) {
				m = M[j];
				if (m != "native" && v[k, m] + 0 > 0 && v[k, "native"] + 0 > 0) {
					g[op, m] += log(v[k, "native"] / v[k, m]); c[op, m]++;
				}
			}
			if (v[k, "pearvisor"] + 0 > 0 && v[k, "native_nocm2"] + 0 > 0) {
				g[op, "pv_nocm2"] += log(v[k, "native_nocm2"] / v[k, "pearvisor"]); c[op, "pv_nocm2"]++;
			}
		}
		print "";
		print "test-backend-ops, geometric mean of speed relative to native (cases present in both):";
		for (op in ops) {
			line = sprintf("  %-16s", op);
			for (j = 1; j <= nm + 1; j++) {
				m = j <= nm ? M[j] : "pv_nocm2";
				if (m == "native") continue;
				line = line sprintf("  %s=%s", (m == "pv_nocm2" ? "pearvisor/nocm2" : m "/native"),
					c[op, m] ? sprintf("%.1f%% (%d cases)", 100 * exp(g[op, m] / c[op, m]), c[op, m]) : "-");
			}
			print line;
		}
	}' "$results" >"$summary"
{
	echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "host: $(uname -r), $(nproc) cpus"
	# Cores and SMT siblings: the server's polling threads want cores of
	# their own (docs/PERFORMANCE.md, run 50).
	lscpu 2>/dev/null | grep -E '^(Model name|Thread\(s\) per core|Core\(s\) per socket|Socket\(s\)|NUMA node\(s\)):' |
		sed 's/  */ /g'
	[ -z "$lvp_extra" ] && grep -m1 -E 'Driver Version' "$OUT/nvidia-smi.txt"
	grep -m1 -E 'deviceName' "$OUT/native.log" 2>/dev/null
	grep -m1 -E 'ggml_vulkan: 0 =' "$OUT/native.log" 2>/dev/null
	grep -m1 -E 'ggml_vulkan: 0 =' "$OUT/pearvisor.log" 2>/dev/null
	grep -m1 -E 'ggml_vulkan: 0 =' "$OUT/virgl.log" 2>/dev/null
	echo "server for 'pearvisor': pearvisor gpu-server"
} >"$OUT/env.txt"
cat "$OUT/env.txt"
grep -v '^tbo:' "$summary" | head -60
echo "(per-case test-backend-ops rows: summary.txt)"
for f in llamacpu vkmarkcpu; do
	[ -s "$OUT/$f.txt" ] && { echo "$f.txt:"; cat "$OUT/$f.txt"; }
done
# At most 8 files come back from the device: all logs go in one archive.
cat "$OUT"/trace-*.txt 2>/dev/null
# Timelines and per-run samples too (the summaries hold their medians).
(cd "$OUT" && tar -czf logs.tar.gz --remove-files ./*.log ./trace-*.txt ./*.tl.xz nvidia-smi.txt \
	samples.tsv micro-samples.tsv vkmark-samples.tsv llamacpu-raw.txt vkmarkcpu-raw.txt 2>/dev/null)
log "done"
