#!/bin/bash
# tbo-full.sh: ggml's whole test-backend-ops suite (test mode: every case
# compared with the CPU backend) on Mesa's lavapipe, natively and/or
# through Mesa Venus -> pearvisor gpu-server -> lavapipe, spread over the
# device machine's cores. It is the GPU core issue's "the full suite
# completes" check, which needs many hours on the 2-core CI host.
#
#   bash .carry/tbo-full.sh [--side native|pearvisor|both] [--workers N] [--pv-workers M] [SHARD...]
#
# A SHARD is OPS or OPS@PARAMS: OPS goes to test-backend-ops -o
# (comma-separated op names), PARAMS to -p (a regex searched in the case's
# parameters). No SHARD: the shards listed in tbo-shards.txt next to this
# script (bench/h100/tbo-shards.py makes it: 237 shards that partition the
# suite's supported cases, each with its case count). N workers (default:
# one per core) take shards from a queue, largest first, one
# test-backend-ops process at a time; one pearvisor gpu-server serves every
# Venus client. PV_TBO_ONLY="I J ..." runs only
# those shard numbers (e.g. the ones a previous call did not finish).
# No shard starts after PV_TBO_DEADLINE_S (default 540) and a running one
# is stopped there; a shard counts as completed only when test-backend-ops
# printed its final verdict line. Results in $OUT.
#
# Most of the suite's time is lavapipe compiling pipelines (a single
# FLASH_ATTN_EXT shard: 114 s cold, 4 s with its pipelines in Mesa's shader
# cache). Every process here, native clients and the server alike, shares
# one cache (same lavapipe build, so the same keys): a pipeline is compiled
# once for both sides and every shard. With both sides the pearvisor side
# follows: it takes a shard only once the native side has finished it, so
# its pipelines come from the cache and it costs mostly execution
# (--pv-workers M, default a quarter of the native workers, at least 1).
# PV_TBO_CACHE=DIR keeps the cache in DIR (outside the unpacked root) so a
# later call on the same machine starts warm.
# Needs the bundle of bench/h100/pack.sh plus lavapipe.tar.xz (pack.sh
# --lavapipe, recompressed to fit the 64 MiB carry).
set -u
carry=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-/tmp/pv-tbo-out}
deadline_s=${PV_TBO_DEADLINE_S:-540}
sides=both workers= pv_workers=
while [ $# -gt 0 ]; do
	case $1 in
	--side) sides=$2; shift 2 ;;
	--workers) workers=$2; shift 2 ;;
	--pv-workers) pv_workers=$2; shift 2 ;;
	*) break ;;
	esac
done
[ "$sides" = both ] && sides="native pearvisor"
mkdir -p "$OUT"
R=/tmp/pv-tbo/root
T0=$(date +%s)
log() { echo "[$(( $(date +%s) - T0 ))s] $*"; }
cleanup() {
	[ -n "${srv:-}" ] && kill "$srv" 2>/dev/null
	for m in "$R/tmp/mesa-cache" "$R/tmp" "$R/proc" "$R/dev"; do mountpoint -q "$m" && umount -l "$m"; done
	return 0
}
trap cleanup EXIT

# The shard list: arguments, or the file (its second column is a count).
shards=()
if [ $# -gt 0 ]; then
	shards=("$@")
else
	while IFS=$'\t' read -r s _; do shards+=("$s"); done <"$carry/tbo-shards.txt"
fi
order=()
if [ -n "${PV_TBO_ONLY:-}" ]; then
	for i in $PV_TBO_ONLY; do order+=("$i"); done
else
	order=("${!shards[@]}")
fi
for i in "${!shards[@]}"; do echo "shard $i: ${shards[$i]}"; done >"$OUT/shards.txt"

rm -rf /tmp/pv-tbo && mkdir -p "$R"
xz -T0 -dc "$carry/sid-bench.tar.xz" | tar -x -C "$R" || exit 1
xz -T0 -dc "$carry/lavapipe.tar.xz" | tar -x -C "$R" || exit 1
mkdir -p "$R/pv" && cp -r "$carry"/pv/* "$R/pv/"
mount --bind /dev "$R/dev" && mount -t proc proc "$R/proc" && mount -t tmpfs tmpfs "$R/tmp"
mkdir -p "$R/tmp/mesa-cache"
if [ -n "${PV_TBO_CACHE:-}" ]; then
	mkdir -p "$PV_TBO_CACHE" && mount --bind "$PV_TBO_CACHE" "$R/tmp/mesa-cache"
fi
chroot "$R" /sbin/ldconfig 2>/dev/null
nsides=$(echo "$sides" | wc -w)
ncpu=$(nproc)
follow=no
if [ "$nsides" = 2 ]; then
	follow=yes
	[ -n "$workers" ] || workers=$ncpu
	[ -n "$pv_workers" ] || pv_workers=$(( workers / 4 > 0 ? workers / 4 : 1 ))
else
	[ -n "$workers" ] || workers=$ncpu
	pv_workers=$workers
fi
log "unpacked; pv commit $(cat "$R/pv/commit"); $ncpu cpus; sides: $sides; workers: $workers native-or-only, $pv_workers pearvisor (follows native: $follow); ${#order[@]} of ${#shards[@]} shards; cache $(du -sh "$R/tmp/mesa-cache" | cut -f1)"
tbo=/$(cd "$R" && ls usr/libexec/x86_64-linux-gnu/llama.cpp-tests/test-backend-ops)
lvp=/usr/share/vulkan/icd.d/lvp_icd.json
# One lavapipe thread per process: the queue keeps every core busy, and
# lavapipe's compiles (most of the time here) are single-threaded anyway.
base=(PATH=/usr/bin:/bin:/usr/sbin:/sbin HOME=/tmp LANG=C.UTF-8 GGML_VK_VISIBLE_DEVICES=0 LP_NUM_THREADS=1
	MESA_SHADER_CACHE_DIR=/tmp/mesa-cache MESA_SHADER_CACHE_MAX_SIZE=16G)

if echo "$sides" | grep -qw pearvisor; then
	env -i "${base[@]}" VK_DRIVER_FILES=$lvp LD_LIBRARY_PATH=/pv/lib PEARVISOR_LOG=warn \
		chroot "$R" /pv/pearvisor gpu-server --socket /tmp/vtest.sock >"$OUT/server.log" 2>&1 &
	srv=$!
	for _ in $(seq 100); do [ -S "$R/tmp/vtest.sock" ] && break; sleep 0.1; done
fi

# The queue: a counter under a lock, over the shard numbers in $order.
printf '%s\n' "${order[@]}" >"$OUT/.queue"
next_shard() { # SIDE -> prints the next shard number, or fails
	local q=$OUT/.queue-$1 pos
	exec 9>>"$q.lock"
	flock 9
	pos=$(cat "$q.pos" 2>/dev/null || echo 0)
	echo $((pos + 1)) >"$q.pos"
	flock -u 9
	exec 9>&-
	sed -n "$((pos + 1))p" "$OUT/.queue" | grep .
}
worker() { # SIDE
	local side=$1 i left s args env
	if [ "$side" = native ]; then env=(VK_DRIVER_FILES=$lvp)
	else env=(VK_DRIVER_FILES=/usr/share/vulkan/icd.d/virtio_icd.json VN_DEBUG=vtest VTEST_SOCKET_NAME=/tmp/vtest.sock)
	fi
	while i=$(next_shard "$side"); do
		if [ "$side" = pearvisor ] && [ "$follow" = yes ]; then
			until grep -q "^$i native " "$OUT/exits.txt" 2>/dev/null; do
				[ "$(date +%s)" -lt $(( T0 + deadline_s )) ] || break
				sleep 2
			done
		fi
		left=$(( T0 + deadline_s - $(date +%s) ))
		[ "$left" -gt 5 ] || break
		s=${shards[$i]}
		args=(-b Vulkan0)
		[ -n "${s%%@*}" ] && args+=(-o "${s%%@*}")
		[ "$s" != "${s#*@}" ] && args+=(-p "${s#*@}")
		local t=$(date +%s)
		timeout -k 5 "$left" env -i "${base[@]}" "${env[@]}" chroot "$R" "$tbo" "${args[@]}" \
			>"$OUT/shard$i-$side.txt" 2>&1
		echo "$i $side exit $? after $(( $(date +%s) - t ))s" >>"$OUT/exits.txt"
	done
}
pids=()
for side in $sides; do
	n=$workers
	[ "$side" = pearvisor ] && n=$pv_workers
	for _ in $(seq "$n"); do
		worker "$side" &
		pids+=($!)
	done
done
wait "${pids[@]}"
log "workers done"
if [ -n "${srv:-}" ]; then
	kill -0 "$srv" 2>/dev/null && log "server still running (good)" || log "SERVER DIED"
fi
# Each case's verdict line, as "CASE OK|FAIL": a passing case prints
# "  OP(params): OK", a failing one "[OP] ERR = ... OP(params): FAIL".
verdicts() {
	awk '($NF == "OK" || $NF == "FAIL") && $(NF-1) ~ /^[A-Z_0-9]+\(.*\):$/ {
		c = $(NF-1); sub(/:$/, "", c); print c, $NF }'
}
# test-backend-ops colours its verdicts.
for f in "$OUT"/shard*-*.txt; do [ -e "$f" ] && sed -i 's/\x1b\[[0-9;]*m//g' "$f"; done
for i in "${order[@]}"; do
	for side in $sides; do
		f=$OUT/shard$i-$side.txt
		# The last lines of a finished run: "N/N tests passed",
		# "Backend Vulkan0: OK" and "2/2 backends passed".
		done_=no ok=0 fail=0
		if [ -e "$f" ]; then
			grep -qE '^[0-9]+/[0-9]+ backends passed' "$f" && done_=yes
			ok=$(verdicts <"$f" | grep -c ' OK$'); fail=$(verdicts <"$f" | grep -c ' FAIL$')
		fi
		echo "shard$i $side: completed=$done_ ok=$ok fail=$fail" \
			"summary: $(grep -hE '^ *[0-9]+/[0-9]+ tests passed' "$f" 2>/dev/null | tr '\n' ' ')"
	done
done | tee "$OUT/counts.txt" >/dev/null
for side in $sides; do
	c=$(grep -c " $side: completed=yes" "$OUT/counts.txt")
	tot=$(grep " $side: " "$OUT/counts.txt" | sed -n 's/.* ok=\([0-9]*\) fail=\([0-9]*\).*/\1 \2/p' |
		awk '{ o += $1; f += $2 } END { print o + 0, f + 0 }')
	notdone=$(grep " $side: completed=no" "$OUT/counts.txt" | sed 's/^shard\([0-9]*\) .*/\1/' | tr '\n' ' ')
	echo "$side: $c of ${#order[@]} shards completed; OK/FAIL ${tot% *}/${tot#* }; not completed: ${notdone:-none}"
done | tee "$OUT/totals.txt"
# Per-case outcome differences between the sides, over shards both completed.
if [ "$nsides" = 2 ]; then
	both=$(for i in "${order[@]}"; do
		[ "$(grep -cE "^shard$i (native|pearvisor): completed=yes" "$OUT/counts.txt")" = 2 ] && echo "$i"
	done)
	for side in native pearvisor; do
		for i in $both; do verdicts <"$OUT/shard$i-$side.txt"; done | sort >"$OUT/$side.cases"
	done
	echo "shards completed on both sides: $(echo "$both" | wc -w)" | tee -a "$OUT/totals.txt"
	diff "$OUT/native.cases" "$OUT/pearvisor.cases" >"$OUT/differences.txt"
	echo "cases whose outcome differs: $(grep -c '^[<>]' "$OUT/differences.txt")" | tee -a "$OUT/totals.txt"
	head -20 "$OUT/differences.txt"
fi
grep -h 'FAIL$' "$OUT"/shard*-pearvisor.txt 2>/dev/null | head -10
[ -e "$OUT/server.log" ] && grep -ci 'lost\|error' "$OUT/server.log" | sed 's/^/server log error lines: /'
(cd "$OUT" && tar -czf logs.tar.gz --remove-files shard*-*.txt $(ls server.log 2>/dev/null) *.cases 2>/dev/null)
rm -f "$OUT"/.queue*
log done
