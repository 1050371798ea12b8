#!/bin/sh
# Venus renderer end to end, no VM: the unmodified Mesa Venus driver
# (VN_DEBUG=vtest) talks to `pearvisor gpu-server` (ASan/UBSan build; a
# fresh server per client), rendering on lavapipe, with the host's Mesa
# 25.0.7 and, when a cached sid guest root exists (guest/build-gpu-root.sh),
# its newer Mesa through tests/venus/in-root.sh: vulkaninfo (summary and
# full), vk-smoke, and vn-micro's synchronous calls; then vk-smoke once more
# with the server itself inside the sid root (its loader, its lavapipe).
# Each client must succeed, its context must not be lost and must end with
# 0 live objects; and a GPU that hangs (a fault-injection layer) must lose
# only that context, with an error the guest sees.
set -u
cd "$(dirname "$0")/../.."
arch=$(uname -m)
icd=/usr/share/vulkan/icd.d
if [ ! -f $icd/virtio_icd.json ] || [ ! -f $icd/lvp_icd.json ]; then
	echo "SKIP venus-e2e: Mesa's virtio/lavapipe ICDs are not installed"
	exit 0
fi
echo "building (sanitized server, plain clients)..."
make -j2 SANITIZE=1 build/$arch-san/pearvisor >/dev/null ||
	{ echo "FAIL venus-build"; exit 1; }
make -j2 build/$arch/vk-smoke build/$arch/vn-micro build/$arch/pv-vktest \
	build/$arch/lose-device/libpv_lose_device.so >/dev/null || { echo "FAIL venus-build"; exit 1; }
work=$(mktemp -d /tmp/pv-venus-e2e.XXXXXX)
trap 'rm -rf "$work"' EXIT INT TERM
mkdir -p build/test-logs

# run_client NAME TIMEOUT CMD...
run_client() {
	name=$1; secs=$2; shift 2
	sock=$work/$name.sock
	out=build/test-logs/venus-gpu-server-$name
	# LeakSanitizer's exit-time scan was seen to hang this server once
	# here (traced, never finishing), so it is off; ASan and UBSan stay on.
	if [ -n "${server_root:-}" ]; then
		# The plain server inside the root, on the root's own lavapipe and
		# Vulkan loader (in-root.sh execs down to it, so $! is its pid).
		VTEST_SOCKET_NAME=$sock PV_IN_ROOT_NATIVE=1 PV_IN_ROOT_BIND="$bin:$lib" \
			bash tests/venus/in-root.sh "$server_root" -- \
			env LD_LIBRARY_PATH="$lib" "$bin/pearvisor" gpu-server \
			--socket "$sock" >"$out.server" 2>"$out.server-err" &
	else
		ASAN_OPTIONS=detect_leaks=0 VK_DRIVER_FILES=$icd/lvp_icd.json \
			build/$arch-san/pearvisor gpu-server \
			--socket "$sock" >"$out.server" 2>"$out.server-err" &
	fi
	srv=$!
	for _ in $(seq 1 40); do [ -S "$sock" ] && break; sleep 0.5; done
	VK_DRIVER_FILES=$icd/virtio_icd.json VN_DEBUG=vtest${VN_DEBUG_EXTRA:-} \
		VTEST_SOCKET_NAME="$sock" timeout "$secs" "$@" >"$out.client" 2>"$out.client-err"
	rc=$?
	for _ in $(seq 1 60); do grep -q 'live objects at disconnect' "$out.server-err" && break; sleep 0.5; done
	kill $srv 2>/dev/null
	for _ in $(seq 1 60); do kill -0 $srv 2>/dev/null || break; sleep 0.5; done
	kill -9 $srv 2>/dev/null
	grep -q ': 0 live objects at disconnect' "$out.server-err" &&
		! grep -q 'venus: ctx [0-9]* lost' "$out.server-err"
	clean=$?
	if [ $rc -eq 0 ] && [ $clean -eq 0 ] &&
	   ! grep -q 'ERROR: AddressSanitizer\|runtime error' "$out.server-err"; then
		echo "PASS venus-gpu-server-$name ($(grep -c . "$out.client") output lines, objects back to 0)"
	else
		echo "client rc=$rc"; tail -5 "$out.server"; tail -20 "$out.server-err" "$out.client-err"
		echo "FAIL venus-gpu-server-$name"
	fi
}

# Synchronous calls that reach the renderer every time (no feedback
# buffers); vn-micro checks every reply (NOT_READY / EVENT_RESET).
micro_perf=no_fence_feedback,no_event_feedback
echo "[host Mesa] vulkaninfo --summary, vulkaninfo (full), vk-smoke, vn-micro..."
run_client vulkaninfo-summary 120 vulkaninfo --summary
run_client vulkaninfo 400 vulkaninfo
run_client vk-smoke 120 build/$arch/vk-smoke
VN_PERF=$micro_perf run_client vn-micro 120 build/$arch/vn-micro null -n 2000
VN_PERF=$micro_perf run_client vn-micro-event 120 build/$arch/vn-micro event -n 2000
# The largest number a client's server log gives for what the sed
# expression captures (or nothing).
max_logged() { # CLIENT-NAME SED-EXPR
	sed -n "$2" "build/test-logs/venus-gpu-server-$1.server-err" | sort -n | tail -n 1
}

# Calls after 2 ms idle spells: the ring has parked (Mesa's 1 ms timeout),
# and the client thread replays what each notify announces itself.
VN_PERF=$micro_perf run_client vn-micro-wake 120 build/$arch/vn-micro wake -n 50
borrowed=$(max_logged vn-micro-wake 's/.*(\([0-9]*\) replayed by its notifier).*/\1/p')
if [ "${borrowed:-0}" -gt 0 ]; then
	echo "PASS venus-parked-ring-replayed-by-notifier ($borrowed batches)"
else
	echo "FAIL venus-parked-ring-replayed-by-notifier (${borrowed:-no} batches)"
fi
# Pipelined replay (opt-in): the recording check's command buffer is
# hundreds of KiB, replayed by the ring thread and its helper together.
PEARVISOR_VENUS_PIPELINE=1 run_client pv-vktest-pipelined 300 build/$arch/pv-vktest \
	--checks compute,copies,recording
handed=$(max_logged pv-vktest-pipelined 's/.*replay helper ran \([0-9]*\) recording commands.*/\1/p')
if [ "${handed:-0}" -gt 1000 ]; then
	echo "PASS venus-pipelined-replay-used (the helper ran $handed commands)"
else
	echo "FAIL venus-pipelined-replay-used (helper ran ${handed:-no} commands)"
fi

# Adaptive polling (the default where the host has 8+ CPUs, forced on
# here, for every kind of thread, the vtest client's too): the same results.
PEARVISOR_VENUS_SPIN_US=100 \
	run_client pv-vktest-polling 300 build/$arch/pv-vktest \
	--checks compute,copies,timeline,recording
if grep -q 'threads poll up to 100 us .*kinds 0x3f)' \
	build/test-logs/venus-gpu-server-pv-vktest-polling.server-err; then
	echo "PASS venus-polling-on (the server polled, up to 100 us, all six kinds)"
else
	echo "FAIL venus-polling-on (no polling announced in the server log)"
fi

# A GPU that hangs mid-run (tests/vulkan/lose_device.c: after 3 queue
# submits, submits never run and fence queries report the device lost):
# the server must lose that context where it learns of it (WANT: which
# call did, as logged), so that the guest's Venus driver gives up with an
# error instead of waiting forever or going on with results never
# computed, and stay up, clean.
# device_lost NAME WANT CMD...
device_lost() {
	name=$1; want=$2; shift 2
	sock=$work/device-lost-$name.sock
	out=build/test-logs/venus-gpu-server-device-lost-$name
	ASAN_OPTIONS=detect_leaks=0 VK_DRIVER_FILES=$icd/lvp_icd.json \
		VK_LAYER_PATH=build/$arch/lose-device VK_INSTANCE_LAYERS=VK_LAYER_PEARVISOR_lose_device \
		PV_LOSE_DEVICE_AFTER=3 build/$arch-san/pearvisor gpu-server \
		--socket "$sock" >"$out.server" 2>"$out.server-err" &
	srv=$!
	for _ in $(seq 1 40); do [ -S "$sock" ] && break; sleep 0.5; done
	VK_DRIVER_FILES=$icd/virtio_icd.json VN_DEBUG=vtest VTEST_SOCKET_NAME="$sock" \
		timeout 120 "$@" >"$out.client" 2>"$out.client-err"
	rc=$?
	for _ in $(seq 1 60); do grep -q 'live objects at disconnect' "$out.server-err" && break; sleep 0.5; done
	alive=no
	kill -0 $srv 2>/dev/null && alive=yes
	kill $srv 2>/dev/null
	for _ in $(seq 1 60); do kill -0 $srv 2>/dev/null || break; sleep 0.5; done
	kill -9 $srv 2>/dev/null
	if [ $rc -ne 0 ] && [ $rc -ne 124 ] && [ $alive = yes ] &&
	   grep -q "lost: the host driver lost the device ($want)" "$out.server-err" &&
	   ! grep -q 'ERROR: AddressSanitizer\|runtime error' "$out.server-err"; then
		echo "PASS venus-device-lost-$name (client rc=$rc, lost the device ($want), server up)"
	else
		echo "client rc=$rc, server alive: $alive"; tail -n 20 "$out.server-err" "$out.client-err"
		echo "FAIL venus-device-lost-$name"
	fi
}
# Mesa 25 without fence feedback asks the host for fence status: the
# command that returns VK_ERROR_DEVICE_LOST tells.
VN_PERF=no_fence_feedback device_lost host-mesa vkGetFenceStatus \
	build/$arch/pv-vktest --checks compute,copies

# A newer guest driver: the sid root (built on a cold machine, then cached;
# 31-venus-vtest uses the same one).
echo "[sid] guest root (guest/build-gpu-root.sh sid, cached under /var/cache/pearvisor/roots)..."
root=$(timeout 2400 sh guest/build-gpu-root.sh sid 2>"$work/root-sid.log" | tail -n 1)
if [ -z "$root" ] || [ ! -f "$root/.pv-root-complete" ] || [ ! -f "$root$icd/virtio_icd.json" ]; then
	tail -n 20 "$work/root-sid.log"
	echo "FAIL venus-sid-root (no usable sid guest root)"
	exit 0
fi
bin=$work/bin
mkdir -p "$bin"
cp build/$arch/vk-smoke build/$arch/vn-micro "$bin/"
sid_client() { # NAME TIMEOUT CMD...
	name=$1; secs=$2; shift 2
	PV_IN_ROOT_BIND=$bin run_client "sid-$name" "$secs" \
		bash tests/venus/in-root.sh "$root" -- "$@"
}
echo "[sid $(basename "$root")] vulkaninfo --summary, vk-smoke, vn-micro event..."
sid_client vulkaninfo-summary 120 vulkaninfo --summary
sid_client vk-smoke 120 "$bin/vk-smoke"
VN_PERF=$micro_perf sid_client vn-micro-event 120 "$bin/vn-micro" event -n 2000
# Mesa 26 asks for virtqueue fences on queue timelines; polled on the
# submitting thread (opt-in), an empty submit's is retired and pooled
# there, under the timeline's lock.
PEARVISOR_VENUS_TRACE=1 PEARVISOR_VENUS_FENCE_POLL_US=200 sid_client vn-micro-fence-poll 300 \
	"$bin/vn-micro" submit -n 300
polled=$(max_logged sid-vn-micro-fence-poll 's/.*trace fence_polled *n=\([0-9]*\).*/\1/p')
if [ "${polled:-0}" -gt 0 ]; then
	echo "PASS venus-sid-fence-poll-used ($polled fences polled on the submitting thread)"
else
	echo "FAIL venus-sid-fence-poll-used (no fence polled on the submitting thread)"
fi

# Mesa 26 waits on vtest syncs, which the server's fence threads signal:
# the hang shows in their wait on the host fence.
PV_IN_ROOT_BIND=$bin device_lost sid "a fence wait" \
	bash tests/venus/in-root.sh "$root" -- "$bin/vn-micro" submit -n 300

# The server where the host's libraries are not: the root's Vulkan loader
# (sid's does not pull in libm) and lavapipe, whose JIT code for vk-smoke's
# half-precision exp2 calls libm's exp2f (resolvable only because the
# renderer makes libm global: src/gpu/gpu_host_runtime.c).
echo "[sid $(basename "$root")] vk-smoke against a server inside the root, on its lavapipe..."
make -j2 build/$arch/pearvisor >/dev/null || { echo "FAIL venus-build"; exit 1; }
cp build/$arch/pearvisor "$bin/"
lib=$work/lib
mkdir -p "$lib"
# Only what the root lacks (libfdt) comes from the host.
ldd build/$arch/pearvisor | awk '$3 ~ /^\// {print $3}' | while read -r l; do
	n=$(basename "$l")
	[ -e "$root/usr/lib/$arch-linux-gnu/$n" ] || [ -e "$root/lib/$arch-linux-gnu/$n" ] ||
		cp -L "$l" "$lib/"
done
server_root=$root sid_client root-server-vk-smoke 120 "$bin/vk-smoke"
