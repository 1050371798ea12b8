#!/bin/sh
# `pearvisor run` option and input validation, through the real binary.
# Runs on any host: every case here must be refused before a VM is created
# (on x86 the run ends at "no hypervisor backend", which is checked too).
set -u
cd "$(dirname "$0")/../.."
B=build/vmm-cli
make -j2 O=$B GPU=0 $B/pearvisor >/dev/null || { echo "FAIL vmm-cli-build"; exit 1; }
PV=$B/pearvisor
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

. tests/vmm/cli-lib.sh

fake_image "$T/Image" 2
fake_image "$T/Huge" 63
head -c 100000 /dev/urandom > "$T/garbage"
printf 'tiny' > "$T/initrd"

expect vmm-cli-help 0 "Exit status" -- --help
expect vmm-cli-no-kernel 2 "--kernel is required" -- --memory 1G
expect vmm-cli-unknown-option 2 "unknown option '--frob'" -- --kernel "$T/Image" --frob
expect vmm-cli-missing-value 2 "needs a value" -- --kernel
expect vmm-cli-bad-memory 2 "expected a size" -- --kernel "$T/Image" --memory lots
expect vmm-cli-memory-too-small 2 "64 MiB" -- --kernel "$T/Image" --memory 32M
expect vmm-cli-memory-unaligned 2 "multiple of" -- --kernel "$T/Image" --memory 65
expect vmm-cli-bad-cpus 2 "--cpus '0'" -- --kernel "$T/Image" --cpus 0
expect vmm-cli-too-many-cpus 2 "--cpus '65'" -- --kernel "$T/Image" --cpus 65
expect vmm-cli-bad-console 2 "--console" -- --kernel "$T/Image" --console tcp:1
expect vmm-cli-missing-kernel 1 "cannot open kernel" -- --kernel "$T/nope"
expect vmm-cli-garbage-kernel 1 "not an arm64 Linux Image" -- --kernel "$T/garbage" --console "file:$T/con.log"
if [ -e "$T/con.log" ]; then echo "FAIL vmm-cli-nothing-written: console file created"; else echo "PASS vmm-cli-nothing-written"; fi
expect vmm-cli-missing-initrd 1 "cannot open initrd" -- --kernel "$T/Image" --initrd "$T/nope"
expect vmm-cli-does-not-fit 1 "do not fit in 64 MiB" -- --kernel "$T/Huge" --memory 64
expect vmm-cli-missing-disk 1 "nope.img" -- --kernel "$T/Image" --disk "$T/nope.img"

# Valid inputs: only an arm64 host with KVM gets past VM creation.
if [ "$(uname -m)" != aarch64 ]; then
	for m in 1G 512M 256; do
		expect "vmm-cli-memory-$m-accepted" 1 "no hypervisor backend for this host architecture" -- \
			--kernel "$T/Image" --initrd "$T/initrd" --memory "$m" --cpus 2 --console "file:$T/con.log"
	done
	if [ -e "$T/con.log" ]; then echo "FAIL vmm-cli-no-backend-nothing-written"; else echo "PASS vmm-cli-no-backend-nothing-written"; fi
else
	echo "SKIP vmm-cli-memory-accepted: arm64 host would boot the fake kernel"
fi
