#!/bin/sh
# Boots real Debian arm64 guests (L2) with pearvisor inside an emulated arm64
# L1 that has KVM (docs/testing-nested.md). One L1 boot, two L2 boots.
#
# While `pearvisor run` is not implemented in this tree, its checks are
# SKIPped and the same checks run with qemu as the VMM inside L1 instead
# (names nested-rig-qemu-*): that proves the rig and its images.
#   PV_NESTED_RIG=auto|always|never   qemu rig run (auto: only when pearvisor
#                                     cannot run guests yet)
set -u
cd "$(dirname "$0")/../.."
out=build/nested
mkdir -p "$out"
checks="boot-poweroff cpus memory virtio-console disk-lock disk-readback disk-persist disk-readonly reboot-status
	err-missing-kernel err-garbage-kernel err-too-little-memory err-unknown-option err-missing-disk"

echo "nested: building/reusing the arm64 images (first build: ~10 min)"
if ! sh guest/build-arm64-images.sh; then
	echo "FAIL nested-images: guest/build-arm64-images.sh failed"
	exit 0
fi
img=$(sh guest/build-arm64-images.sh --print-dir)

echo "nested: building the arm64 pearvisor"
if ! make -j2 ARCH=aarch64 >"$out/build-aarch64.log" 2>&1; then
	tail -n 20 "$out/build-aarch64.log"
	echo "FAIL nested-build: make ARCH=aarch64 failed"
	exit 0
fi
pv=build/aarch64/pearvisor

# Is `run` implemented? The answer comes before any KVM use, so the arm64
# binary is asked under qemu-user on this host.
ready=1 why=
probe=$(qemu-aarch64-static "$pv" run --kernel /nonexistent/vmlinuz 2>&1)
case $probe in
*"not implemented"*) ready=0 why="pearvisor run is not implemented in this tree ($probe)" ;;
esac

# run_l1 VMM PREFIX: one L1 session of tests/nested/l1-checks.sh on a fresh
# copy of the L2 disk, then the host-side check of what L2 wrote.
run_l1() {
	vmm=$1 prefix=$2
	disk=$out/l2-$vmm.img
	cp --sparse=always "$img/l2-root.img" "$disk"
	token=pv-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
	printf 'PV_VMM=%s\nPV_PREFIX=%s\nPV_TOKEN=%s\n' "$vmm" "$prefix" "$token" >"$out/config-$vmm"
	# The payload is copied under fixed names.
	rm -rf "$out/payload-$vmm"
	mkdir -p "$out/payload-$vmm"
	cp "$out/config-$vmm" "$out/payload-$vmm/config"
	cp tests/nested/l1-lib.sh "$out/payload-$vmm/"
	[ "$vmm" = pearvisor ] && cp "$pv" "$out/payload-$vmm/pearvisor"
	echo "nested: L1 session with $vmm as the L2 VMM (log $out/l1-$vmm.log; 3-8 min by host load)"
	sh tests/nested/run-l1.sh --l2-disk "$disk" --log "$out/l1-$vmm.log" --timeout 1200 \
		tests/nested/l1-checks.sh "$out/payload-$vmm"/* >"$out/results-$vmm.txt"
	rc=$?
	sed -n 's/^INFO /  /p' "$out/results-$vmm.txt"
	grep -E '^(PASS|FAIL|SKIP) ' "$out/results-$vmm.txt"
	if [ $rc -ne 0 ]; then
		echo "FAIL $prefix-l1: L1 session ended with status $rc (see $out/l1-$vmm.log)"
		tail -n 30 "$out/l1-$vmm.log"
		return
	fi
	# What L2 wrote and synced must be in the image once everything exited.
	if grep -qx "WROTE $token" "$out/results-$vmm.txt"; then
		got=$(debugfs -R 'cat /pv-test-file' "$disk" 2>/dev/null)
		if [ "$got" = "$token" ]; then
			echo "PASS $prefix-disk-persist"
		else
			echo "FAIL $prefix-disk-persist: image holds '$got', L2 wrote '$token'"
		fi
	else
		echo "FAIL $prefix-disk-persist: L2 did not report the write"
	fi
	rm -f "$disk"
}

rig=${PV_NESTED_RIG:-auto}
if [ "$rig" = always ] || { [ "$rig" = auto ] && [ $ready = 0 ]; }; then
	run_l1 qemu nested-rig-qemu
fi
if [ $ready = 1 ]; then
	run_l1 pearvisor nested
else
	for c in $checks; do echo "SKIP nested-$c: $why"; done
fi
exit 0
