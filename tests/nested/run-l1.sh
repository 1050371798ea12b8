#!/bin/sh
# tests/nested/run-l1.sh [options] SCRIPT [FILE...]
#
# Boots L1 (emulated arm64 with virtualization, qemu TCG) from the images of
# guest/build-arm64-images.sh and runs SCRIPT inside it as root, chrooted into
# the L1 root (read-only; /tmp is a tmpfs). SCRIPT and the FILEs (e.g. the
# arm64 pearvisor binary) are visible in L1 under /pv/run. In L1 the script
# sees PV_L2_DISK (the L2 disk's device), PV_L2_KERNEL, PV_L2_INITRD.
#
# L1's whole console goes to the log; lines the script prints starting with
# "PVR " are copied to stdout without that prefix. The exit status is the
# script's, 124 when L1 ran past the timeout, 125 when L1 never ran it.
#
# Options:
#   --l2-disk IMG   disk given to L1 as the L2 disk (default: none)
#   --log FILE      console log (default: build/nested/l1-console.log)
#   --timeout SEC   whole L1 run (default 900)
#   --show          also stream the console to stderr
#   --mem MB        L1 memory (default 3072)  --smp N  L1 CPUs (default 2)
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
l2disk= log=$top/build/nested/l1-console.log timeout=900 show=0 mem=3072 smp=2
while [ $# -gt 0 ]; do
	case $1 in
	--l2-disk) l2disk=$2; shift 2 ;;
	--log) log=$2; shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	--show) show=1; shift ;;
	--mem) mem=$2; shift 2 ;;
	--smp) smp=$2; shift 2 ;;
	--) shift; break ;;
	-*) echo "run-l1: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
done
[ $# -ge 1 ] || { echo "usage: run-l1.sh [options] SCRIPT [FILE...]" >&2; exit 2; }
script=$1; shift

img=$(sh "$top/guest/build-arm64-images.sh" --print-dir)
[ -f "$img/done" ] || { echo "run-l1: images not built: run guest/build-arm64-images.sh" >&2; exit 125; }

mkdir -p "$(dirname "$log")"
tmp=$(mktemp -d /tmp/pv-l1.XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM
# The per-run payload is a second cpio archive appended to the cached one;
# the kernel unpacks both, so nothing cached is rebuilt per run.
mkdir -p "$tmp/payload/pv"
cp "$script" "$tmp/payload/pv/script.sh"
for f in "$@"; do cp "$f" "$tmp/payload/pv/"; done
(cd "$tmp/payload" && find . | sort | cpio -o -H newc --quiet) >"$tmp/payload.cpio"
cat "$img/l1-initramfs.cpio" "$tmp/payload.cpio" >"$tmp/initramfs.cpio"

set -- -M virt,virtualization=on,gic-version=3 -cpu max,pauth-impdef=on \
	-smp "$smp" -m "$mem" -display none -monitor none -serial stdio -nic none \
	-kernel "$img/vmlinuz" -initrd "$tmp/initramfs.cpio" \
	-append "console=ttyAMA0 rdinit=/init quiet loglevel=3" \
	-drive if=none,file="$img/l1-root.img",format=raw,id=l1root,readonly=on \
	-device virtio-blk-device,drive=l1root
if [ -n "$l2disk" ]; then
	set -- "$@" -drive if=none,file="$l2disk",format=raw,id=l2disk \
		-device virtio-blk-device,drive=l2disk
fi

start=$(date +%s)
echo "run-l1: booting L1 (log: $log, timeout ${timeout}s)" >&2
# sed -u: the log fills as L1 runs (tail -f it), not at the end.
if [ $show = 1 ]; then
	timeout "$timeout" qemu-system-aarch64 "$@" </dev/null 2>&1 | sed -u 's/\r//g' | tee "$log" >&2 || true
else
	timeout "$timeout" qemu-system-aarch64 "$@" </dev/null 2>&1 | sed -u 's/\r//g' >"$log" || true
fi
echo "run-l1: L1 ran $(( $(date +%s) - start ))s" >&2
sed -n 's/^PVR //p' "$log"
rc=$(sed -n 's/^PV-L1-EXIT rc=\([0-9]*\).*/\1/p' "$log" | tail -n 1)
if [ -z "$rc" ]; then
	if grep -q '^PV-L1-READY' "$log"; then
		echo "run-l1: L1 did not finish within ${timeout}s (see $log)" >&2
		exit 124
	fi
	echo "run-l1: L1 never got to run the script (see $log)" >&2
	exit 125
fi
exit "$rc"
