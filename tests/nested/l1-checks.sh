#!/bin/sh
# Runs inside L1 (tests/nested/run-l1.sh): the L2 checks of
# tests/suites/40-nested.sh, with two L2 boots in all.
# /pv/run/config sets PV_VMM (pearvisor|qemu), PV_PREFIX (check-name prefix)
# and PV_TOKEN (a fresh string the write check stores).
# Prints "PVR PASS|FAIL|SKIP name..." lines and "PVR INFO ..." facts.
. /pv/run/config
. /pv/run/l1-lib.sh
P=$PV_PREFIX
l1_require
echo "PVR INFO vmm=$PV_VMM l2disk=$D"

# ---- Usage and error paths: quick, no guest runs (pearvisor's own CLI).
if [ "$PV_VMM" = pearvisor ]; then
	pv=$PV_RUN/pearvisor
	# errcheck NAME WANT_RC PATTERN ARGS...: exit status WANT_RC ("nz" for any
	# failure that is not a crash), and stderr matching PATTERN.
	errcheck() {
		_n=$1 _want=$2 _pat=$3; shift 3
		timeout 60 "$pv" run "$@" </dev/null >/tmp/err.out 2>/tmp/err.log
		_rc=$?
		_msg=$(head -n 3 /tmp/err.log | tr '\n' ' ')
		echo "PVR INFO $_n: rc=$_rc stderr: $_msg"
		if [ "$_want" = nz ]; then
			[ $_rc -ne 0 ] && [ $_rc -lt 124 ] || { fail "$_n" "exit status $_rc (want a failure status, no crash/timeout)"; return; }
		else
			[ $_rc -eq "$_want" ] || { fail "$_n" "exit status $_rc, want $_want"; return; }
		fi
		grep -Eqi -- "$_pat" /tmp/err.log || { fail "$_n" "message does not match /$_pat/: $_msg"; return; }
		pass "$_n"
	}
	head -c 65536 /dev/urandom >/tmp/garbage-kernel
	errcheck err-missing-kernel nz '/nonexistent/vmlinuz' \
		--kernel /nonexistent/vmlinuz --memory 256M
	errcheck err-garbage-kernel nz 'kernel|image' \
		--kernel /tmp/garbage-kernel --memory 256M
	errcheck err-too-little-memory nz 'memory' \
		--kernel "$PV_L2_KERNEL" --initrd "$PV_L2_INITRD" --memory 1M
	errcheck err-unknown-option 2 'bogus-option' \
		--kernel "$PV_L2_KERNEL" --bogus-option
	errcheck err-missing-disk nz '/nonexistent/disk.img' \
		--kernel "$PV_L2_KERNEL" --memory 256M --disk /nonexistent/disk.img
else
	for n in err-missing-kernel err-garbage-kernel err-too-little-memory err-unknown-option err-missing-disk; do
		skip $n "pearvisor's CLI only"
	done
fi

# ---- Boot 1: 2 CPUs, 1 GiB, writes the token. While it runs, a second VM
# on the same (writable, in-use) disk must be refused.
t0=$(date +%s.%N)
vm_start boot1 --cpus 2 --memory 1G --disk "$D" \
	--append "$L2_APPEND_BASE pv.test=nproc,meminfo,write,hvc pv.token=$PV_TOKEN"
pid1=$VM_PID
# The second VM must come after the first holds the disk: it has the disk
# open, and its guest is printing or 10 s have passed since the open (qemu
# locks at device setup, just after the open; startup in L1 can take long on
# a loaded host).
n=0 opened=
while [ $n -lt 1200 ] && kill -0 $pid1 2>/dev/null; do
	if [ -z "$opened" ] && ls -l /proc/$pid1/fd 2>/dev/null | grep -q " -> $D\$"; then
		opened=$n
	fi
	if [ -n "$opened" ] && { [ -s /tmp/boot1.log ] || [ $((n - opened)) -ge 20 ]; }; then
		break
	fi
	sleep 0.5
	n=$((n + 1))
done
echo "PVR INFO disk-lock: first VM had the disk open after $((${opened:-0} / 2)) s, second VM starts at $((n / 2)) s"
if ! kill -0 $pid1 2>/dev/null; then
	fail disk-lock "the first VM ended before the second could be tried: $(head -n 2 /tmp/boot1.log | tr '\n' ' ')"
elif [ -z "$opened" ]; then
	fail disk-lock "the first VM never opened $D"
else
	vm_start lock2 --cpus 1 --memory 256M --disk "$D" --append "$L2_APPEND_BASE"
	vm_wait lock2 $VM_PID 120
	still=0; kill -0 $pid1 2>/dev/null && still=1
	msg=$(head -n 3 /tmp/lock2.log | tr '\n' ' ' | tr -d '\r')
	echo "PVR INFO disk-lock: second VM rc=$VM_RC, first still running=$still: $msg"
	if [ $VM_RC -eq 0 ] || [ $VM_RC -ge 124 ]; then
		fail disk-lock "second VM on an in-use disk was not refused (rc=$VM_RC)"
	elif ! grep -Eqi 'lock|in use|busy' /tmp/lock2.log; then
		fail disk-lock "refused without a clear message: $msg"
	elif [ $still = 0 ]; then
		fail disk-lock "refused only after the first VM had ended; inconclusive"
	else
		pass disk-lock
	fi
fi
vm_wait boot1 $pid1 600
t1=$(date +%s.%N)
vm_log boot1
up=$(tr -d '\r' </tmp/boot1.log | sed -n 's/^PV-L2-USERSPACE uptime=\([0-9.]*\).*/\1/p')
echo "PVR INFO boot1: rc=$VM_RC wall=$(awk "BEGIN { printf \"%.1f\", $t1 - $t0 }")s l2-uptime-at-userspace=${up}s"

ok=0
grep -q '^PV-L2-USERSPACE' /tmp/boot1.log && grep -q '^PV-L2-DONE' /tmp/boot1.log && [ $VM_RC -eq 0 ] && ok=1
check boot-poweroff $ok "marker/power-off/exit 0 missing (rc=$VM_RC)"
n=$(result boot1 nproc)
check cpus "$([ "$n" = 2 ] && echo 1)" "--cpus 2 but L2 nproc=$n"
# MemTotal is RAM less what the kernel keeps for itself (its image, the
# struct page array, early reservations): for 1 GiB the rule is
# 1 GiB - 96 MiB <= MemTotal <= 1 GiB.
m=$(result boot1 memtotal_kb)
ok=0
[ -n "$m" ] && [ "$m" -le 1048576 ] && [ "$m" -ge $((1048576 - 98304)) ] && ok=1
check memory $ok "--memory 1G but MemTotal=${m:-?} kB"
# The virtio console (hvc0) shares the serial console's output.
if [ "$PV_VMM" = pearvisor ]; then
	h=$(result boot1 hvc)
	ok=0
	[ "$h" = ok ] && tr -d '\r' </tmp/boot1.log | grep -q "PV-HVC0-LINE $PV_TOKEN" && ok=1
	check virtio-console $ok "hvc=${h:-?}: the guest's /dev/hvc0 line did not reach the console"
fi
w=$(result boot1 write)
echo "PVR INFO write=$w"
[ "$w" = ok ] && echo "PVR WROTE $PV_TOKEN"

# ---- Boot 2: same disk read-only: reads the token back, writes must fail;
# ends with a guest reboot: pearvisor's status for that is 3 (run --help),
# qemu with -no-reboot exits 0.
vm_start boot2 --cpus 2 --memory 512M --disk "$D,readonly" \
	--append "$L2_APPEND_BASE pv.test=read,rowrite pv.end=reboot"
vm_wait boot2 $VM_PID 600
vm_log boot2
want=0; [ "$PV_VMM" = pearvisor ] && want=3
done2=0; grep -q '^PV-L2-DONE' /tmp/boot2.log && done2=1
if [ "$PV_VMM" = pearvisor ]; then
	check reboot-status "$([ $done2 = 1 ] && [ $VM_RC -eq 3 ] && echo 1)" \
		"guest rebooted (done=$done2), pearvisor exited $VM_RC, want 3"
else
	skip reboot-status "pearvisor's exit status contract"
fi
r=$(result boot2 read)
ok=0; [ "$w" = ok ] && [ "$r" = "$PV_TOKEN" ] && [ $VM_RC -eq $want ] && ok=1
check disk-readback $ok "wrote '$w', second boot read '$r' (rc=$VM_RC)"
rm1=$(result boot2 rowrite_remount) rd1=$(result boot2 rowrite_dd)
echo "PVR INFO readonly: remount: $rm1; dd: $rd1; ro_flag=$(result boot2 ro_flag)"
ok=0
case "$rm1" in refused*) case "$rd1" in refused*) ok=1 ;; esac ;; esac
check disk-readonly $ok "read-only disk: remount $rm1, raw write $rd1"
exit 0
