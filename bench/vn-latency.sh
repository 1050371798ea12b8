#!/bin/sh
# bench/vn-latency.sh: Venus transport latency (vn-micro) through several
# `pearvisor gpu-server` binaries side by side, on lavapipe, in one run:
# rounds alternate between the servers so host load hits them alike.
# Guest drivers: the host's Mesa (always) and, with a cached sid root, its
# Mesa 26 through tests/venus/in-root.sh.
#
#   sh bench/vn-latency.sh [-r ROUNDS] [-n ITERS] LABEL=PATH/TO/pearvisor...
#
# Prints, per driver, server and vn-micro test, the median over rounds of
# each run's median, p99 and mean (us). Synchronous calls use
# VN_PERF=no_fence_feedback,no_event_feedback so they reach the server.
set -u
cd "$(dirname "$0")/.."
rounds=3 iters=5000
while [ $# -gt 0 ]; do
	case $1 in
	-r) rounds=$2; shift 2 ;;
	-n) iters=$2; shift 2 ;;
	*) break ;;
	esac
done
[ $# -gt 0 ] || { echo "usage: vn-latency.sh [-r ROUNDS] [-n ITERS] LABEL=PEARVISOR..." >&2; exit 2; }
arch=$(uname -m)
icd=/usr/share/vulkan/icd.d
make -j2 build/$arch/vn-micro >/dev/null || exit 1
work=$(mktemp -d /tmp/vn-latency.XXXXXX)
srv=
trap '[ -n "$srv" ] && kill $srv 2>/dev/null; rm -rf "$work"' EXIT INT TERM
mkdir -p "$work/sock" "$work/bin"
cp build/$arch/vn-micro "$work/bin/"
root=$(ls -dt /var/cache/pearvisor/roots/sid-* 2>/dev/null | grep -v '\.tmp\.' | head -n 1)
[ -n "$root" ] && [ -f "$root$icd/virtio_icd.json" ] || root=
export VN_PERF=no_fence_feedback,no_event_feedback

# one LABEL PEARVISOR DRIVER: one vn-micro run, RESULT lines tagged.
one() {
	sock=$work/sock/vt.sock
	rm -f "$sock"
	VK_DRIVER_FILES=$icd/lvp_icd.json "$2" gpu-server --socket "$sock" 2>>"$work/$1.log" &
	srv=$!
	for _ in $(seq 1 40); do [ -S "$sock" ] && break; sleep 0.25; done
	if [ "$3" = host ]; then
		VK_DRIVER_FILES=$icd/virtio_icd.json VN_DEBUG=vtest VTEST_SOCKET_NAME=$sock \
			timeout 300 "$work/bin/vn-micro" all -n "$iters"
	else
		VTEST_SOCKET_NAME=$sock PV_IN_ROOT_BIND=$work/bin timeout 300 \
			bash tests/venus/in-root.sh "$root" -- "$work/bin/vn-micro" all -n "$iters"
	fi | sed -n "s/^RESULT /$3 $1 /p" >>"$work/results"
	kill $srv 2>/dev/null; wait $srv 2>/dev/null; srv=
}

for r in $(seq 1 "$rounds"); do
	for spec in "$@"; do
		one "${spec%%=*}" "${spec#*=}" host
		[ -n "$root" ] && one "${spec%%=*}" "${spec#*=}" sid
	done
	echo "round $r of $rounds done" >&2
done
echo "driver server test median_us p99_us mean_us (medians over $rounds rounds, $iters iterations; wake tests $((iters / 10)))"
awk '
function med(s,   a, n, i, j, t) {
	n = split(s, a, " ")
	for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
	return a[int((n + 1) / 2)]
}
{
	k = $1 " " $2 " " $3
	if (!(k in seen)) { seen[k] = 1; order[++nk] = k }
	for (i = 4; i <= NF; i++) { split($i, kv, "="); v[k, kv[1]] = v[k, kv[1]] " " kv[2] }
}
END {
	for (i = 1; i <= nk; i++) { k = order[i]
		printf "%s %s %s %s\n", k, med(v[k, "median_us"]), med(v[k, "p99_us"]), med(v[k, "mean_us"]) }
}' "$work/results" | sort -k1,1 -k3,3 -s | column -t
