#!/bin/sh
# Runs inside L1 for bench/nested-gpu.sh: pv-vktest through Venus over two
# transports of the same renderer on L1's lavapipe, alternately:
#   l2     in an L2 guest of `pearvisor run --gpu` (virtio-gpu, nested KVM)
#   vtest  in L1 itself, Mesa's Venus ICD over `pearvisor gpu-server`'s
#          UNIX socket (VN_DEBUG=vtest)
# Each round boots L2 once (it runs pv-vktest PV_BENCH_RUNS times, timed in
# L2), then runs pv-vktest PV_BENCH_RUNS times over vtest, timed in L1.
# Prints "PVR BENCH <transport> round=R run=N total_ms=T <check>_ms=..." and
# "PVR BENCHFAIL ..." for runs that failed.
. /pv/run/config
. /pv/run/l1-lib.sh
PV_VMM=pearvisor
export HOME=/tmp
D=$PV_L2_DISK
pv=$PV_RUN/pearvisor
icd=$(ls /usr/share/vulkan/icd.d/virtio_icd*.json | head -n 1)
args=$(echo "$PV_BENCH_VKARGS" | tr '+' ' ')

# pv-vktest into the L2 root, as tests/nested/l1-gpu.sh does.
mkdir -p /tmp/l2mnt
mount -t ext4 "$D" /tmp/l2mnt || { echo "PVR BENCHFAIL setup: cannot mount the L2 disk"; exit 1; }
mkdir -p /tmp/l2mnt/usr/local/bin
cp "$PV_RUN/pv-vktest" /tmp/l2mnt/usr/local/bin/pv-vktest
umount /tmp/l2mnt

"$pv" gpu-server --socket /tmp/vt.sock >/tmp/server.log 2>&1 &
srv=$!
i=0
while ! grep -q "listening on" /tmp/server.log && [ $i -lt 120 ]; do sleep 1; i=$((i + 1)); done
grep -q "listening on" /tmp/server.log || { cat /tmp/server.log; echo "PVR BENCHFAIL setup: gpu-server did not start"; exit 1; }
echo "PVR INFO $(grep -m1 'host device\|device' /tmp/server.log)"

# check_times FILE: "total_ms=... compute_ms=..." from pv-vktest --time output.
check_times() {
	awk '/^TIME / { t[$2] += $3 } END { for (k in t) printf " %s_ms=%.1f", k, t[k] }' "$1"
}

r=1
while [ "$r" -le "$PV_BENCH_ROUNDS" ]; do
	vm_start bench --cpus 2 --memory 1G --disk "$D,readonly" --gpu \
		--append "$L2_APPEND_BASE pv.test=gpu,vktest pv.vkargs=$PV_BENCH_VKARGS+--time pv.vkrepeat=$PV_BENCH_RUNS"
	vm_wait bench $VM_PID 1800
	tr -d '\r' </tmp/bench.log >/tmp/bench.txt
	# Split the L2 output per run: each run ends with its vktest_ms line.
	awk -v R="$r" '
		/^PV-VK TIME / { t[$3] += $4 }
		/^PV-VK FAIL / { bad = bad " " substr($0, 7) }
		/^PV-RESULT vktest_rc=/ { rc = substr($2, 11) }
		/^PV-RESULT vktest_ms=/ {
			n++
			if (rc != "0" || bad != "") { printf "PVR BENCHFAIL l2 round=%d run=%d rc=%s%s\n", R, n, rc, bad }
			else {
				printf "PVR BENCH l2 round=%d run=%d total_ms=%s", R, n, substr($2, 11)
				for (k in t) printf " %s_ms=%.1f", k, t[k]
				printf "\n"
			}
			delete t; bad = ""
		}' /tmp/bench.txt
	grep -q '^PV-RESULT vktest_ms=' /tmp/bench.txt ||
		echo "PVR BENCHFAIL l2 round=$r: no run (VMM status $VM_RC)"
	sed "s/^/[bench-$r] /" /tmp/bench.txt

	n=1
	while [ "$n" -le "$PV_BENCH_RUNS" ]; do
		t0=$(date +%s%N)
		VN_DEBUG=vtest VTEST_SOCKET_NAME=/tmp/vt.sock VK_DRIVER_FILES=$icd \
			"$PV_RUN/pv-vktest" $args --time >/tmp/vt.txt 2>&1
		rc=$?
		t1=$(date +%s%N)
		if [ $rc = 0 ] && grep -q '^PASS device: Virtio-GPU Venus' /tmp/vt.txt; then
			echo "PVR BENCH vtest round=$r run=$n total_ms=$(( (t1 - t0) / 1000000 ))$(check_times /tmp/vt.txt)"
		else
			echo "PVR BENCHFAIL vtest round=$r run=$n rc=$rc: $(grep -E '^FAIL|^PASS device' /tmp/vt.txt | tr '\n' ' ')"
		fi
		n=$((n + 1))
	done
	r=$((r + 1))
done
kill $srv 2>/dev/null
wait $srv 2>/dev/null
exit 0
