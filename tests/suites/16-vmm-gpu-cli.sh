#!/bin/sh
# `pearvisor run --gpu` on this host, through the real native binary (GPU
# build): the host Vulkan device is selected and named and the renderer
# starts before the VM is created, or the run stops with an error. On x86
# the run then ends at "no hypervisor backend" (status 1), which is expected.
set -u
cd "$(dirname "$0")/../.."
B=build/vmm-gpu-cli
make -j2 O=$B GPU=1 $B/pearvisor >/dev/null || { echo "FAIL vmm-gpu-cli-build"; exit 1; }
PV=$B/pearvisor
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
. tests/vmm/cli-lib.sh
fake_image "$T/Image" 2

expect vmm-gpu-cli-screenshot-needs-gpu 2 "needs --gpu" -- --kernel "$T/Image" --screenshot "$T/s.png"
expect vmm-gpu-cli-unknown-device 1 "requested device 'no-such-gpu' not found" -- \
	--kernel "$T/Image" --gpu-device no-such-gpu
if "$PV" gpu-list >/dev/null 2>&1 && [ -n "$("$PV" gpu-list 2>/dev/null)" ]; then
	expect vmm-gpu-cli-names-device 1 "gpu: host device \[0\]" -- --kernel "$T/Image" --gpu --gpu-device 0
	expect vmm-gpu-cli-renderer-up 1 "venus: renderer up" -- --kernel "$T/Image" --gpu
else
	echo "SKIP vmm-gpu-cli-names-device: no Vulkan device on this host"
fi

# A build without the GPU stack refuses --gpu instead of booting without it.
N=build/vmm-gpu-cli-nogpu
if make -j2 O=$N GPU=0 $N/pearvisor >/dev/null; then
	PV=$N/pearvisor expect vmm-gpu-cli-nogpu-refuses 1 "built without the GPU stack" -- \
		--kernel "$T/Image" --gpu
else
	echo "FAIL vmm-gpu-cli-nogpu-build"
fi
