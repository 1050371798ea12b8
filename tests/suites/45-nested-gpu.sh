#!/bin/sh
# virtio-gpu with Venus in a real guest (docs/virtio-gpu.md,
# docs/testing-nested.md): in the nested rig's L1 (emulated arm64, lavapipe
# as L1's Vulkan), `pearvisor run --gpu` boots the stock Debian L2, whose
# Mesa Venus driver must list "Virtio-GPU Venus (llvmpipe ...)" and pass
# pv-vktest; the fbcon console's scanout is screenshotted by pearvisor
# (SIGUSR1 and at exit), carried out of L1 as base64 and checked here
# (tests/nested/check-scanout.py). One L1 session, one L2 boot.
#   PV_NESTED_GPU_VKARGS   pv-vktest options in L2, '+' for spaces (default:
#                          none, i.e. the full run: 9600 objects; e.g.
#                          --objects+40+--rounds+2 for a slower machine)
set -u
cd "$(dirname "$0")/../.."
out=build/nested/gpu
mkdir -p "$out"
t_start=$(date +%s)

echo "nested-gpu: building/reusing the arm64 images (first build: ~15 min)"
if ! sh guest/build-arm64-images.sh; then
	echo "FAIL nested-gpu-images: guest/build-arm64-images.sh failed"
	exit 0
fi
img=$(sh guest/build-arm64-images.sh --print-dir)

echo "nested-gpu: building the arm64 GPU pearvisor and pv-vktest (make ARCH=aarch64 GPU=1)"
B=build/aarch64-gpu
if ! make -j2 ARCH=aarch64 GPU=1 O=$B $B/pearvisor $B/pv-vktest >"$out/build.log" 2>&1; then
	tail -n 20 "$out/build.log"
	echo "FAIL nested-gpu-build: make ARCH=aarch64 GPU=1 failed (needs libvulkan-dev:arm64)"
	exit 0
fi
disk=$out/l2.img
cp --sparse=always "$img/l2-root.img" "$disk"
token=pv-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')
rm -rf "$out/payload" "$out"/scanout-*.png
mkdir -p "$out/payload"
printf 'PV_TOKEN=%s\nPV_VKARGS=%s\n' "$token" "${PV_NESTED_GPU_VKARGS-}" \
	>"$out/payload/config"
cp tests/nested/l1-lib.sh $B/pearvisor $B/pv-vktest "$out/payload/"
echo "nested-gpu: L1 session (log $out/l1.log; 6-20 min by host load)"
sh tests/nested/run-l1.sh --l2-disk "$disk" --log "$out/l1.log" --timeout 2400 \
	tests/nested/l1-gpu.sh "$out/payload"/* >"$out/results.txt"
rc=$?
rm -f "$disk"
sed -n 's/^INFO /  /p' "$out/results.txt"
grep -E '^(PASS|FAIL|SKIP) ' "$out/results.txt"
if [ $rc -ne 0 ]; then
	echo "FAIL nested-gpu-l1: L1 session ended with status $rc (see $out/l1.log)"
	tail -n 30 "$out/l1.log"
fi

# The checker itself must refuse a screen without the text: a black
# 1280x800 PNG, made here with the standard library.
python3 - "$out/blank.png" <<'PY'
import struct, sys, zlib
w, h = 1280, 800
def chunk(k, b):
    return struct.pack('>I', len(b)) + k + b + struct.pack('>I', zlib.crc32(k + b) & 0xffffffff)
raw = (b'\0' + bytes(3 * w)) * h
open(sys.argv[1], 'wb').write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0))
                             + chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b''))
PY
if python3 tests/nested/check-scanout.py "$out/blank.png" "PV-SCANOUT $token" >"$out/blank.txt" 2>&1; then
	echo "FAIL nested-gpu-scanout-checker: it accepted a blank screen"
elif grep -q '0 bands' "$out/blank.txt"; then
	echo "PASS nested-gpu-scanout-checker (refuses a blank screen)"
else
	sed 's/^/  /' "$out/blank.txt"
	echo "FAIL nested-gpu-scanout-checker: unexpected answer for a blank screen"
fi

# The screenshots: decode and check what L2's console looks like.
for which in usr1 exit; do
	png=$out/scanout-$which.png
	sed -n "s/^PNG-$which //p" "$out/results.txt" | base64 -d >"$png" 2>/dev/null
	if [ ! -s "$png" ]; then
		echo "FAIL nested-gpu-scanout-$which: no screenshot came back from L1"
	elif python3 tests/nested/check-scanout.py "$png" "PV-SCANOUT $token" >"$out/scanout-$which.txt" 2>&1; then
		echo "PASS nested-gpu-scanout-$which ($png: $(grep '^font' "$out/scanout-$which.txt"))"
	else
		sed 's/^/  /' "$out/scanout-$which.txt"
		echo "FAIL nested-gpu-scanout-$which: $png does not show the console marker"
	fi
done
echo "nested-gpu: suite took $(( $(date +%s) - t_start )) s"
exit 0
