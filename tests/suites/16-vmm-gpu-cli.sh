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
python3 - "$T/Image" <<'PY'
import struct, sys
hdr = struct.pack('<II QQQ QQQ II', 0, 0, 0, 2 << 20, 0xa, 0, 0, 0, 0x644d5241, 0)
open(sys.argv[1], 'wb').write(hdr + bytes(4096))
PY

expect() {
	name=$1 want=$2 pat=$3; shift 4
	out=$("$PV" run "$@" 2>&1 </dev/null); st=$?
	if [ "$st" -ne "$want" ]; then
		echo "FAIL $name: status $st, wanted $want"; printf '%s\n' "$out" | sed 's/^/    /'
	elif ! printf '%s\n' "$out" | grep -q -- "$pat"; then
		echo "FAIL $name: output lacks '$pat'"; printf '%s\n' "$out" | sed 's/^/    /'
	else
		echo "PASS $name"
	fi
}

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
