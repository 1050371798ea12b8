# Sourced by the scripts that run inside L1 (tests/nested/l1-checks.sh,
# bench/vmm-boot-l1.sh). Starts L2 guests with either VMM through one
# interface: pearvisor's own options, translated for qemu.
#
#   PV_VMM=pearvisor|qemu   which VMM vm_exec runs
# Needs PV_RUN, PV_L2_KERNEL, PV_L2_INITRD (set by l1-init).

L2_APPEND_BASE="console=ttyAMA0 root=/dev/vda ro init=/sbin/pv-test-init quiet"

# vm_exec [pearvisor run options]: execs the VMM (use in a subshell) with
# the L2 kernel and initrd, console on stdout.
vm_exec() {
	if [ "$PV_VMM" = pearvisor ]; then
		exec "$PV_RUN/pearvisor" run --kernel "$PV_L2_KERNEL" --initrd "$PV_L2_INITRD" \
			--console stdio "$@"
	fi
	# Rotate the arguments: each original one is shifted off the front and
	# its qemu form appended at the back.
	n=$# i=0 dn=0
	while [ $i -lt $n ]; do
		a=$1; shift; i=$((i + 1))
		case $a in
		--append|--cpus|--memory|--disk|--kernel|--initrd)
			v=$1; shift; i=$((i + 1)) ;;
		esac
		case $a in
		--append) set -- "$@" -append "$v" ;;
		--cpus) set -- "$@" -smp "$v" ;;
		--memory) set -- "$@" -m "$v" ;;
		--kernel) set -- "$@" -kernel "$v" ;;
		--initrd) set -- "$@" -initrd "$v" ;;
		--disk)
			dn=$((dn + 1)) ro=
			case $v in *,readonly) v=${v%,readonly} ro=,readonly=on ;; esac
			set -- "$@" -drive "if=none,file=$v,format=raw,id=disk$dn$ro" \
				-device "virtio-blk-device,drive=disk$dn" ;;
		*) set -- "$@" "$a" ;;
		esac
	done
	# -no-reboot: a guest reboot ends qemu (status 0) instead of restarting.
	exec qemu-system-aarch64 -M virt,gic-version=3 -enable-kvm -cpu host -no-reboot \
		-display none -monitor none -serial stdio -nic none \
		-kernel "$PV_L2_KERNEL" -initrd "$PV_L2_INITRD" "$@"
}

# vm_start NAME [options]: starts an L2 VM in the background, console in
# /tmp/NAME.log; VM_PID is the VMM's pid.
vm_start() {
	_name=$1; shift
	( vm_exec "$@" ) </dev/null >"/tmp/$_name.log" 2>&1 &
	VM_PID=$!
}

# vm_wait NAME PID TIMEOUT: waits for the VM, kills it after TIMEOUT s;
# VM_RC is its exit status (137 when killed).
vm_wait() {
	_name=$1 _pid=$2 _t=$3
	( sleep "$_t"; kill -9 "$_pid" 2>/dev/null ) &
	_wd=$!
	wait "$_pid"
	VM_RC=$?
	kill "$_wd" 2>/dev/null
	wait "$_wd" 2>/dev/null
	return 0
}

# vm_log NAME: the VM's console, prefixed, into L1's console (for the log).
vm_log() {
	sed "s/^/[$1] /" "/tmp/$1.log" | tr -d '\r'
}

# result NAME KEY: value of "PV-RESULT KEY=..." in the VM's console.
result() {
	tr -d '\r' <"/tmp/$1.log" | sed -n "s/^PV-RESULT $2=//p" | tail -n 1
}

# Result lines of the in-L1 check scripts (l1-checks.sh, l1-gpu.sh); $P is
# the caller's check-name prefix.
pass() { echo "PVR PASS $P-$1"; }
fail() { echo "PVR FAIL $P-$1: $2"; }
skip() { echo "PVR SKIP $P-$1: $2"; }
check() { if [ "$2" = 1 ]; then pass "$1"; else fail "$1" "$3"; fi; }

# l1_require: what every check session needs, or it stops: the L2 disk
# (then in $D) and /dev/kvm.
l1_require() {
	D=$PV_L2_DISK
	[ -b "$D" ] || { echo "PVR FAIL $P-setup: no L2 disk in L1"; exit 1; }
	[ -c /dev/kvm ] || { echo "PVR FAIL $P-setup: no /dev/kvm in L1"; exit 1; }
}
