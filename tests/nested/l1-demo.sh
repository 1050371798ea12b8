#!/bin/sh
# Runs inside L1 (tests/nested/demo.sh): boots the Debian L2 guest once, its
# console straight onto L1's console, and reports how the VMM exited.
. /pv/run/config
. /pv/run/l1-lib.sh
export PV_VMM
echo "=== L1 is up (kernel $(uname -r), /dev/kvm: $([ -c /dev/kvm ] && echo yes || echo no))"
echo "=== booting Debian trixie arm64 as L2 with $PV_VMM: 2 vCPUs, 1 GiB, disk $PV_L2_DISK"
( vm_exec --cpus 2 --memory 1G --disk "$PV_L2_DISK" \
	--append "console=ttyAMA0 root=/dev/vda ro init=/sbin/pv-test-init pv.test=nproc,meminfo" ) </dev/null
rc=$?
echo "=== $PV_VMM exited with status $rc"
echo "PVR demo-exit=$rc"
exit $rc
