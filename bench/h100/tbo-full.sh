#!/bin/bash
# tbo-full.sh: ggml's whole test-backend-ops suite (test mode: every case
# compared with the CPU backend) on Mesa's lavapipe, natively and through
# Mesa Venus -> pearvisor gpu-server -> lavapipe, side by side on the
# device machine's cores. It is the GPU core issue's "the full suite
# completes" check, which needs many hours on the 2-core CI host.
#
#   bash .carry/tbo-full.sh [SHARD...]      (results in $OUT)
#
# A SHARD is OPS or OPS@PARAMS: OPS goes to test-backend-ops -o
# (comma-separated op names), PARAMS to -p (a regex over the case's
# parameters). No SHARD: the whole suite as one. Every shard runs at once
# on both sides, one pearvisor gpu-server serving all the Venus clients;
# the cores are split evenly between the processes. Each process runs under
# PV_TBO_TIMEOUT_S (default 530) and a shard counts as completed only when
# test-backend-ops printed its final verdict line.
# Needs the bundle of bench/h100/pack.sh plus .carry/lavapipe.tar.xz
# (pack.sh --lavapipe, recompressed to fit the 64 MiB carry).
set -u
carry=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-/tmp/pv-tbo-out}
tmo=${PV_TBO_TIMEOUT_S:-530}
shards=("$@")
[ ${#shards[@]} -eq 0 ] && shards=("")
mkdir -p "$OUT"
R=/tmp/pv-tbo/root
T0=$(date +%s)
log() { echo "[$(( $(date +%s) - T0 ))s] $*"; }
cleanup() {
	[ -n "${srv:-}" ] && kill "$srv" 2>/dev/null
	for m in "$R/tmp" "$R/proc" "$R/dev"; do mountpoint -q "$m" && umount -l "$m"; done
	return 0
}
trap cleanup EXIT
rm -rf /tmp/pv-tbo && mkdir -p "$R"
xz -T0 -dc "$carry/sid-bench.tar.xz" | tar -x -C "$R" || exit 1
xz -T0 -dc "$carry/lavapipe.tar.xz" | tar -x -C "$R" || exit 1
mkdir -p "$R/pv" && cp -r "$carry"/pv/* "$R/pv/"
mount --bind /dev "$R/dev" && mount -t proc proc "$R/proc" && mount -t tmpfs tmpfs "$R/tmp"
chroot "$R" /sbin/ldconfig 2>/dev/null
ncpu=$(nproc)
nproc_tbo=$(( 2 * ${#shards[@]} ))
thr=$(( ncpu / nproc_tbo )); [ "$thr" -lt 2 ] && thr=2
log "unpacked; pv commit $(cat "$R/pv/commit"); $ncpu cpus, ${#shards[@]} shard(s), LP_NUM_THREADS=$thr per process"
tbo=/$(cd "$R" && ls usr/libexec/x86_64-linux-gnu/llama.cpp-tests/test-backend-ops)
lvp=/usr/share/vulkan/icd.d/lvp_icd.json
base=(PATH=/usr/bin:/bin:/usr/sbin:/sbin HOME=/tmp LANG=C.UTF-8 GGML_VK_VISIBLE_DEVICES=0 LP_NUM_THREADS=$thr)

env -i "${base[@]}" VK_DRIVER_FILES=$lvp LD_LIBRARY_PATH=/pv/lib PEARVISOR_LOG=warn \
	chroot "$R" /pv/pearvisor gpu-server --socket /tmp/vtest.sock >"$OUT/server.log" 2>&1 &
srv=$!
for _ in $(seq 100); do [ -S "$R/tmp/vtest.sock" ] && break; sleep 0.1; done

pids=()
for i in "${!shards[@]}"; do
	s=${shards[$i]}
	args=(-b Vulkan0 -j 2)
	ops=${s%%@*}
	[ -n "$ops" ] && args+=(-o "$ops")
	[ "$s" != "${s#*@}" ] && args+=(-p "${s#*@}")
	echo "shard $i: test-backend-ops ${args[*]}" >>"$OUT/shards.txt"
	log "shard $i: test-backend-ops ${args[*]}"
	timeout -k 5 "$tmo" env -i "${base[@]}" VK_DRIVER_FILES=$lvp chroot "$R" "$tbo" "${args[@]}" \
		>"$OUT/shard$i-native.txt" 2>&1 &
	pids+=("$i:native:$!")
	timeout -k 5 "$tmo" env -i "${base[@]}" VK_DRIVER_FILES=/usr/share/vulkan/icd.d/virtio_icd.json \
		VN_DEBUG=vtest VTEST_SOCKET_NAME=/tmp/vtest.sock chroot "$R" "$tbo" "${args[@]}" \
		>"$OUT/shard$i-pearvisor.txt" 2>&1 &
	pids+=("$i:pearvisor:$!")
done
for p in "${pids[@]}"; do
	wait "${p##*:}"
	rc=$?
	echo "${p%:*} exit $rc" >>"$OUT/exits.txt"
	log "shard ${p%:*} exit $rc"
done
kill -0 "$srv" 2>/dev/null && log "server still running (good)" || log "SERVER DIED"
# test-backend-ops colours its verdicts.
for f in "$OUT"/shard*-*.txt; do sed -i 's/\x1b\[[0-9;]*m//g' "$f"; done
for i in "${!shards[@]}"; do
	for side in native pearvisor; do
		f=$OUT/shard$i-$side.txt
		# The last lines of a finished run: "N/N tests passed",
		# "Backend Vulkan0: OK" and "1/1 backends passed".
		done_=no
		grep -qE '^[0-9]+/[0-9]+ backends passed' "$f" && done_=yes
		echo "shard$i $side: completed=$done_ ok=$(grep -c ': OK$' "$f") fail=$(grep -c ': FAIL' "$f")" \
			"unsupported=$(grep -c 'not supported' "$f")" \
			"summary: $(grep -E 'tests passed|Backend Vulkan0:|[0-9]+/[0-9]+ backends passed' "$f" | tr '\n' ' ')"
	done
done | tee "$OUT/counts.txt"
# Per-op outcome differences between the two sides.
for side in native pearvisor; do
	cat "$OUT"/shard*-$side.txt | sed -n 's/^ *\([A-Z_0-9]*\)(.*): \(OK\|FAIL\)$/\1 \2/p' |
		sort | uniq -c | awk '{ print $2, $3, $1 }' >"$OUT/$side.byop"
done
join -a1 -a2 -e0 -o 0,1.2,2.2 <(awk '{ print $1"/"$2, $3 }' "$OUT/native.byop" | sort) \
	<(awk '{ print $1"/"$2, $3 }' "$OUT/pearvisor.byop" | sort) |
	awk '$2 != $3 { print "differs:", $0 }' | tee "$OUT/differences.txt"
grep -h 'FAIL' "$OUT"/shard*-pearvisor.txt | head -20
grep -ci 'lost\|error' "$OUT/server.log" | sed 's/^/server log error lines: /'
(cd "$OUT" && tar -czf logs.tar.gz --remove-files shard*-native.txt shard*-pearvisor.txt server.log)
log done
