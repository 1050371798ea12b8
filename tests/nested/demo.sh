#!/bin/sh
# `make demo`: builds (or reuses) the nested rig's images and the arm64
# pearvisor, boots L1 (emulated arm64 with KVM) and in it boots the default
# Debian guest with pearvisor, streaming the whole console here.
#   PV_DEMO_VMM=qemu   use qemu as the L2 VMM instead (shows the rig itself)
set -eu
cd "$(dirname "$0")/../.."
sh tools/setup-host.sh
out=build/nested
mkdir -p "$out"
vmm=${PV_DEMO_VMM:-pearvisor}
echo "demo: building/reusing the arm64 guest images (first time: ~10 min)"
sh guest/build-arm64-images.sh
img=$(sh guest/build-arm64-images.sh --print-dir)
rm -rf "$out/demo-payload"
mkdir -p "$out/demo-payload"
if [ "$vmm" = pearvisor ]; then
	echo "demo: building the arm64 pearvisor (make ARCH=aarch64)"
	make -j2 ARCH=aarch64
	cp build/aarch64/pearvisor "$out/demo-payload/"
fi
printf 'PV_VMM=%s\n' "$vmm" >"$out/demo-payload/config"
cp tests/nested/l1-lib.sh "$out/demo-payload/"
disk=$out/l2-demo.img
cp --sparse=always "$img/l2-root.img" "$disk"
echo "demo: booting L1; its console follows (L1 ~10 s, then the L2 boot: 1-2 min, longer on a loaded host)"
sh tests/nested/run-l1.sh --show --l2-disk "$disk" --log "$out/l1-demo.log" --timeout 600 \
	tests/nested/l1-demo.sh "$out/demo-payload"/* >/dev/null
