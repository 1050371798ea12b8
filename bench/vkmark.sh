#!/bin/sh
# bench/vkmark.sh [trixie|sid]: vkmark --winsys headless, every default
# scene, in one guest root two ways in one run:
#   native  the root's own lavapipe (no Venus)
#   pv      Mesa Venus in the root -> pearvisor gpu-server -> this host's
#           lavapipe
# Prints per-scene FPS side by side and the vkmark scores. The two
# lavapipes differ (root's Mesa/LLVM vs the host's), and the 2-core host is
# shared: read the ratios, not the absolute numbers.
#   PV_BENCH_SIZE=320x240 PV_BENCH_DURATION=5 sh bench/vkmark.sh trixie
set -u
cd "$(dirname "$0")/.."
top=$PWD
B=$top/build/x86_64
suite=${1:-trixie}
size=${PV_BENCH_SIZE:-320x240}
dur=${PV_BENCH_DURATION:-5}
make -j2 all >/dev/null || exit 1
root=$(sh guest/build-gpu-root.sh "$suite" 2>/dev/null | tail -n 1)
[ -f "$root/.pv-root-complete" ] || { echo "no $suite root" >&2; exit 1; }
work=$(mktemp -d /tmp/vkbench.XXXXXX)
chmod 755 "$work"
server=
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT INT TERM
VK_DRIVER_FILES=/usr/share/vulkan/icd.d/lvp_icd.json \
	"$B/pearvisor" gpu-server --socket "$work/vt.sock" >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 60); do grep -q "listening on" "$work/server.log" && break; sleep 1; done
for m in native pv; do
	nat=0
	[ $m = native ] && nat=1
	PV_IN_ROOT_NATIVE=$nat VTEST_SOCKET_NAME=$work/vt.sock timeout 900 \
		bash tests/venus/in-root.sh "$root" -- vkmark --winsys headless -s "$size" \
		-b ":duration=$dur" >"$work/$m.txt" 2>&1 || echo "$m: exit $?" >&2
done
echo "vkmark --winsys headless -s $size -b :duration=$dur, $suite root, $(date -u +%F)"
echo "| scene | native lavapipe FPS | pearvisor gpu-server FPS | pv/native |"
echo "|---|---|---|---|"
grep '^\[' "$work/native.txt" | sed 's/: FPS: \([0-9]*\).*/|\1/' >"$work/n"
grep '^\[' "$work/pv.txt" | sed 's/: FPS: \([0-9]*\).*/|\1/' >"$work/p"
paste -d'|' "$work/n" "$work/p" | awk -F'|' '{ r = $2 > 0 ? sprintf("%.2f", $4 / $2) : "-";
	printf "| %s | %s | %s | %s |\n", $1, $2, $4, r }'
sn=$(sed -n 's/.*vkmark Score: //p' "$work/native.txt")
sp=$(sed -n 's/.*vkmark Score: //p' "$work/pv.txt")
echo "| **vkmark Score** | $sn | $sp | $(awk -v a="$sp" -v b="$sn" 'BEGIN { if (b > 0) printf "%.2f", a / b }') |"
