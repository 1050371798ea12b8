#!/bin/sh
# Venus renderer end to end, no VM: the unmodified Mesa Venus driver
# (VN_DEBUG=vtest) talks to the renderer through tests/venus/vtest_mini.c,
# which renders on lavapipe. The server is the ASan/UBSan build; each client
# must succeed and the context must end not lost with 0 live objects.
set -u
cd "$(dirname "$0")/../.."
arch=$(uname -m)
icd=/usr/share/vulkan/icd.d
if [ ! -f $icd/virtio_icd.json ] || [ ! -f $icd/lvp_icd.json ]; then
	echo "SKIP venus-e2e: Mesa's virtio/lavapipe ICDs are not installed"
	exit 0
fi
echo "building (sanitized server, plain clients)..."
make -j2 SANITIZE=1 build/$arch-san/venus-vtest-mini >/dev/null || { echo "FAIL venus-build"; exit 1; }
make -j2 build/$arch/vk-smoke build/$arch/venus-null-call >/dev/null || { echo "FAIL venus-build"; exit 1; }

run_client() { # name timeout command...
	name=$1; secs=$2; shift 2
	sock=$(mktemp -u /tmp/pv-venus.XXXXXX)
	out=build/test-logs/venus-$name
	mkdir -p build/test-logs
	VK_DRIVER_FILES=$icd/lvp_icd.json timeout 600 build/$arch-san/venus-vtest-mini "$sock" \
		>"$out.server" 2>"$out.server-err" &
	srv=$!
	for _ in 1 2 3 4 5 6 7 8 9 10; do [ -S "$sock" ] && break; sleep 0.5; done
	VK_DRIVER_FILES=$icd/virtio_icd.json VN_DEBUG=vtest VTEST_SOCKET_NAME="$sock" \
		timeout "$secs" "$@" >"$out.client" 2>"$out.client-err"
	rc=$?
	# The server exits once its first client's child is done.
	for _ in $(seq 1 60); do kill -0 $srv 2>/dev/null || break; sleep 0.5; done
	kill $srv 2>/dev/null
	rm -f "$sock"
	if [ $rc -eq 0 ] && grep -q '^lost 0$' "$out.server" &&
	   grep -q '^objects-left 0$' "$out.server" &&
	   ! grep -q 'ERROR: AddressSanitizer\|runtime error' "$out.server-err"; then
		echo "PASS venus-$name ($(grep -c . "$out.client") output lines, objects back to 0)"
	else
		echo "client rc=$rc"; cat "$out.server"; tail -20 "$out.server-err" "$out.client-err"
		echo "FAIL venus-$name"
	fi
}
echo "vulkaninfo --summary..."
run_client vulkaninfo-summary 120 vulkaninfo --summary
echo "vulkaninfo (full)..."
run_client vulkaninfo 300 vulkaninfo
echo "vk-smoke..."
run_client vk-smoke 120 build/$arch/vk-smoke
echo "null-call (correctness only; timings belong in bench/)..."
VN_PERF=no_fence_feedback run_client null-call 120 build/$arch/venus-null-call 2000
