#!/bin/sh
# Runs inside L1 (bench/vmm-boot.sh): boots the L2 guest PV_BENCH_RUNS times
# with each VMM in PV_BENCH_VMMS and prints one "PVR BENCH ..." line per boot.
#
# Boot time: wall time in L1 from starting the VMM until the guest's first
# userspace line (PV-L2-USERSPACE) appears on its console (polled every
# 0.2 s), and the guest's own uptime printed in that line.
# VMM memory: at that moment (the guest then sleeps 5 s, so the VMM is still
# up) /proc/PID/smaps is read; the Rss of mappings at least as large as the
# guest's RAM is the guest's memory, the Rss of all other mappings is the
# VMM's own (code, heap, device state, threads' stacks).
. /pv/run/config
. /pv/run/l1-lib.sh
D=$PV_L2_DISK
mem_mb=512
# Runs alternate between the VMMs so that load changes on the (shared) host
# affect both alike.
i=1
while [ $i -le "$PV_BENCH_RUNS" ]; do
	for PV_VMM in $PV_BENCH_VMMS; do
		export PV_VMM
		t0=$(date +%s.%N)
		vm_start bench --cpus 2 --memory ${mem_mb}M --disk "$D,readonly" \
			--append "$L2_APPEND_BASE pv.test=sleep5"
		pid=$VM_PID
		t1= n=0
		while [ $n -lt 1500 ] && kill -0 $pid 2>/dev/null; do
			if grep -q '^PV-L2-USERSPACE' /tmp/bench.log; then
				t1=$(date +%s.%N)
				break
			fi
			sleep 0.2
			n=$((n + 1))
		done
		mem=$(awk -v guest_kb=$((mem_mb * 1024)) '
			function hex(s,  i, v) {
				v = 0
				for (i = 1; i <= length(s); i++)
					v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
				return v
			}
			/^[0-9a-f]+-[0-9a-f]+ / {
				split($1, r, "-")
				size_kb = (hex(r[2]) - hex(r[1])) / 1024
				big = size_kb >= guest_kb
			}
			/^Rss:/ { if (big) g += $2; else v += $2 }
			END { printf "guest_rss_kb=%d vmm_rss_kb=%d", g, v }' /proc/$pid/smaps 2>/dev/null)
		hwm=$(awk '/^VmHWM:/ { print $2 }' /proc/$pid/status 2>/dev/null)
		vm_wait bench $pid 300
		up=$(tr -d '\r' </tmp/bench.log | sed -n 's/^PV-L2-USERSPACE uptime=\([0-9.]*\).*/\1/p')
		if [ -n "$t1" ] && [ $VM_RC -eq 0 ]; then
			echo "PVR BENCH vmm=$PV_VMM run=$i wall_to_userspace_s=$(awk "BEGIN { printf \"%.2f\", $t1 - $t0 }") l2_uptime_s=$up $mem vm_hwm_kb=$hwm"
		else
			echo "PVR BENCHFAIL vmm=$PV_VMM run=$i rc=$VM_RC"
			vm_log bench | tail -n 40
		fi
	done
	i=$((i + 1))
done
