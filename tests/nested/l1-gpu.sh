#!/bin/sh
# Runs inside L1 (tests/nested/run-l1.sh): the virtio-gpu checks of
# tests/suites/45-nested-gpu.sh. One L2 boot with `pearvisor run --gpu`; the
# renderer runs on L1's lavapipe. /pv/run holds the arm64 GPU build of
# pearvisor, pv-vktest (arm64) and the config (PV_TOKEN, PV_VKARGS).
# Prints "PVR PASS|FAIL|SKIP name...", "PVR INFO ..." and the screenshots as
# "PVR PNG-<which> <base64 line>" (decoded and checked on the host).
. /pv/run/config
. /pv/run/l1-lib.sh
PV_VMM=pearvisor
P=nested-gpu
l1_require
# Mesa's caches want a writable home; the L1 root is read-only.
export HOME=/tmp

# ---- What pearvisor sees in L1 (lavapipe on the emulated CPUs).
"$PV_RUN/pearvisor" gpu-list >/tmp/gpu-list.txt 2>&1
echo "PVR INFO gpu-list (rc=$?): $(tr '\n' ' ' </tmp/gpu-list.txt)"

# ---- pv-vktest goes into the L2 root (a fresh copy per suite run), which
# L2 then mounts read-only.
mkdir -p /tmp/l2mnt
if mount -t ext4 "$D" /tmp/l2mnt; then
	mkdir -p /tmp/l2mnt/usr/local/bin
	cp "$PV_RUN/pv-vktest" /tmp/l2mnt/usr/local/bin/pv-vktest
	chmod 755 /tmp/l2mnt/usr/local/bin/pv-vktest
	umount /tmp/l2mnt
else
	echo "PVR FAIL $P-setup: cannot mount the L2 disk in L1 to add pv-vktest"
	exit 1
fi

# ---- The L2 boot.
shot=/tmp/scanout.png
t0=$(date +%s)
vm_start gpu --cpus 2 --memory 1G --disk "$D,readonly" --gpu --screenshot "$shot" \
	--append "$L2_APPEND_BASE pv.test=gpu,fbcon,vulkaninfo,vktest,gpuerr pv.token=$PV_TOKEN pv.vkargs=$PV_VKARGS"
pid=$VM_PID
# Once L2 says its marker is on the display, ask for a screenshot with
# SIGUSR1 and keep that file; the VMM writes the file again when it exits.
usr1=
n=0
while kill -0 $pid 2>/dev/null && [ $n -lt 1800 ]; do
	if [ -z "$usr1" ] && grep -q '^PV-RESULT fbcon=' /tmp/gpu.log; then
		kill -USR1 $pid
		usr1=sent
		echo "PVR INFO fbcon marker shown after $(( $(date +%s) - t0 )) s; SIGUSR1 sent"
	fi
	if [ "$usr1" = sent ] && grep -q 'screenshot written' /tmp/gpu.log; then
		cp "$shot" /tmp/scanout-usr1.png && usr1=copied
	fi
	sleep 0.5
	n=$((n + 1))
done
vm_wait gpu $pid 1200
rc=$VM_RC
echo "PVR INFO L2 ran $(( $(date +%s) - t0 )) s, pearvisor exit status $rc"
vm_log gpu
r() { result gpu "$1"; }

# Lines the suite needs in full: pearvisor's own, and what L2 printed.
tr -d '\r' </tmp/gpu.log | grep -E '^pearvisor|gpu:' | head -n 40 | sed 's/^/PVR INFO pv: /'
tr -d '\r' </tmp/gpu.log | grep -E '^PV-(VK|RESULT|GPU-ERR) |^PV-VI[[:space:]]*deviceName' | sed 's/^/PVR INFO l2: /'

done_seen=0
grep -q '^PV-L2-DONE' /tmp/gpu.log && done_seen=1
check boot "$([ $done_seen = 1 ] && [ $rc = 0 ] && echo 1)" \
	"PV-L2-DONE seen: $done_seen, pearvisor exit status $rc"
hostdev=$(tr -d '\r' </tmp/gpu.log | sed -n 's/.*gpu: host device \(.*\)/\1/p' | head -n 1)
check host-device "$([ -n "$hostdev" ] && echo 1)" "pearvisor named no host device"
[ -n "$hostdev" ] && echo "PVR INFO host device: $hostdev"
echo "PVR INFO virtio_gpu loaded by: $(r gpu_module)"
check driver "$([ "$(r gpu_render)" = present ] && [ "$(r gpu_fb)" = present ] && echo 1)" \
	"module $(r gpu_module), render node $(r gpu_render), fb0 $(r gpu_fb)"
venus=$(tr -d '\r' </tmp/gpu.log | sed -n "s/^PV-VI[[:space:]]*deviceName[[:space:]]*=[[:space:]]*\(Virtio-GPU Venus.*\)/\1/p" | head -n 1)
case $venus in
*"(llvmpipe"*) pass "vulkaninfo ($venus)" ;;
*) fail vulkaninfo "no 'Virtio-GPU Venus (llvmpipe ...)' device in vulkaninfo --summary (rc $(r vulkaninfo_rc), device '${venus}')" ;;
esac
vkdev=$(tr -d '\r' </tmp/gpu.log | sed -n 's/^PV-VK PASS device: //p' | head -n 1)
check vktest-device "$(echo "$vkdev" | grep -q '^Virtio-GPU Venus' && echo 1)" \
	"pv-vktest's device is '${vkdev:-none}', not Venus"
for c in compute copy-buffer copy-image timeline objects; do
	line=$(tr -d '\r' </tmp/gpu.log | grep -E "^PV-VK (PASS|FAIL) $c(:|\$)" | head -n 1)
	case $line in
	"PV-VK PASS "*) pass "vktest-$c (${line#PV-VK PASS $c: })" ;;
	*) fail "vktest-$c" "${line:-no result line}" ;;
	esac
done
check vktest "$([ "$(r vktest_rc)" = 0 ] && echo 1)" "pv-vktest exit status $(r vktest_rc)"
# The guest's driver logs every command the device refused.
check guest-kernel-errors "$([ "$(r gpu_kernel_errors)" = 0 ] && echo 1)" \
	"$(r gpu_kernel_errors) virtio_gpu error lines in L2's kernel log: $(tr -d '\r' </tmp/gpu.log | sed -n 's/^PV-GPU-ERR //p' | head -n 3 | tr '\n' ' ')"
echo "PVR INFO pv-vktest in L2 took $(r vktest_ms) ms"

# ---- Screenshots travel as base64 lines; the host decodes and checks them.
screens=0
if [ "$usr1" = copied ]; then
	base64 -w 76 /tmp/scanout-usr1.png | sed 's/^/PVR PNG-usr1 /'
	screens=$((screens + 1))
else
	echo "PVR INFO no SIGUSR1 screenshot (state: ${usr1:-marker never shown})"
fi
if [ -s "$shot" ] && [ "$(grep -c 'screenshot written' /tmp/gpu.log)" -ge 2 ]; then
	base64 -w 76 "$shot" | sed 's/^/PVR PNG-exit /'
	screens=$((screens + 1))
else
	echo "PVR INFO no exit screenshot ($(grep -c 'screenshot written' /tmp/gpu.log) written)"
fi
echo "PVR INFO screenshots sent: $screens"
exit 0
