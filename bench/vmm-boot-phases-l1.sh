#!/bin/sh
# Runs inside L1: one L2 boot per VMM (pearvisor, then qemu), 1 vCPU, 512 MiB,
# without `quiet` and with printk.time=1, so the two kernel logs show where
# the boot time goes. At PV-L2-USERSPACE it also prints, per VMM, the wall
# time, THP use (smaps_rollup), each thread's utime/stime (L1 clock ticks)
# and the VM's KVM counters from debugfs (exits, mmio_exit_user, ...).
# Output: "PVR ..." lines; the L2 consoles as "PVR L2 <vmm> ...". Run with
#   img=$(sh guest/build-arm64-images.sh --print-dir)
#   cp --sparse=always $img/l2-root.img build/nested/phases-l2.img
#   mkdir -p build/nested/phases && cp tests/nested/l1-lib.sh build/aarch64/pearvisor build/nested/phases/
#   sh tests/nested/run-l1.sh --l2-disk build/nested/phases-l2.img --timeout 1500 \
#       bench/vmm-boot-phases-l1.sh build/nested/phases/l1-lib.sh build/nested/phases/pearvisor
. /pv/run/l1-lib.sh
D=$PV_L2_DISK
mount -t debugfs none /sys/kernel/debug 2>/dev/null
echo "PVR THP $(cat /sys/kernel/mm/transparent_hugepage/enabled) defrag $(cat /sys/kernel/mm/transparent_hugepage/defrag)"
APP="console=ttyAMA0 root=/dev/vda ro init=/sbin/pv-test-init printk.time=1"
for PV_VMM in pearvisor qemu; do
	export PV_VMM
	t0=$(date +%s.%N)
	vm_start d$PV_VMM --cpus 1 --memory 512M --disk "$D,readonly" --append "$APP pv.test=sleep5"
	pid=$VM_PID n=0 t1=
	while [ $n -lt 3000 ] && kill -0 $pid 2>/dev/null; do
		grep -q '^PV-L2-USERSPACE' /tmp/d$PV_VMM.log && { t1=$(date +%s.%N); break; }
		sleep 0.2; n=$((n + 1))
	done
	[ -n "$t1" ] && echo "PVR WALL $PV_VMM $(awk "BEGIN { print $t1 - $t0 }")"
	grep -E 'AnonHuge|^Rss' /proc/$pid/smaps_rollup | sed "s/^/PVR SMAPS $PV_VMM /"
	for t in /proc/$pid/task/*; do echo "PVR TASK $PV_VMM $(cut -d' ' -f2,14,15 $t/stat)"; done
	for d in /sys/kernel/debug/kvm/$pid-*; do
		[ -d "$d" ] || continue
		for f in "$d"/*; do
			[ -f "$f" ] && echo "PVR KVM $PV_VMM $(basename "$f")=$(head -c 60 "$f" 2>/dev/null)"
		done
	done
	vm_wait d$PV_VMM $pid 200
	tr -d '\r' </tmp/d$PV_VMM.log | sed "s/^/PVR L2 $PV_VMM /"
done
