#!/bin/sh
# 35-graphics: graphics through `pearvisor gpu-server` (docs/graphics.md).
# Unmodified guest userspace from the trixie (Mesa 25.0.7) and sid (Mesa
# 26.x) roots, Venus driver over vtest, lavapipe behind the server:
#  - vkmark --winsys headless: every default scene completes (functional;
#    FPS lines are logged, not asserted); natively too, through our
#    headless-WSI layer (the H100 baseline's, bench/headless-wsi);
#  - eglinfo (sid): EGL surfaceless + Zink reports a zink renderer on the
#    "Virtio-GPU Venus" device;
#  - piglit (sid, surfaceless_egl): the "spec@!opengl 1.0" group of
#    quick_gl run with Zink on our Venus and with Zink on the root's own
#    lavapipe; every per-test result must match, or the test must be listed
#    with its cause in tests/graphics/piglit-allow.txt. For this step a
#    second gpu-server runs inside the sid root, so both runs end on the
#    same lavapipe (Mesa 26.2.6) and only Venus + our renderer differ;
#  - the Khronos validation layer on a server's own Vulkan calls while
#    pv-vktest and three vkmark scenes run in each root: no VUID beyond
#    the known ones (listed where the step runs).
# Every step has a timeout. PV_GFX_PIGLIT_FILTER overrides the piglit
# test regex (a larger subset; it takes longer).
set -u
cd "$(dirname "$0")/../.."
top=$PWD
B=$top/build/x86_64
VKMARK_SCENES=13   # vkmark 2025.01's default list: vertex x2, texture x2,
                   # shading x4, effect2d x2, desktop, cube, clear
PIGLIT_FILTER=${PV_GFX_PIGLIT_FILTER:-'spec@!opengl 1\.0@'}
ALLOW=$top/tests/graphics/piglit-allow.txt
# Not /tmp/pv-*: other suites clean up by that pattern.
work=$(mktemp -d /tmp/gfxsuite.XXXXXX)
chmod 755 "$work"
sock=$work/vtest.sock
log=$work/server.log
logs=$top/build/test-logs
mkdir -p "$logs"
server=
server2=
server3=

cleanup() {
	[ -n "$server" ] && kill "$server" 2>/dev/null
	[ -n "$server2" ] && kill "$server2" 2>/dev/null
	[ -n "$server3" ] && kill "$server3" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

. tests/venus/suite-lib.sh

build_all || exit 1

build_roots

progress "starting gpu-server on $sock"
VK_DRIVER_FILES=${PV_GFX_SERVER_ICD:-/usr/share/vulkan/icd.d/lvp_icd.json} \
	"$B/pearvisor" gpu-server --socket "$sock" >"$log" 2>&1 &
server=$!
if wait_listening "$server" "$log"; then
	pass server-start
else
	fail server-start
	exit 1
fi

# in_root SUITE TIMEOUT CMD...: CMD in a root through the server;
# PV_IN_ROOT_NATIVE=1 in the caller's env runs it on the root's lavapipe.
in_root() {
	_s=$1 _t=$2; shift 2
	eval "_r=\$root_$_s"
	VTEST_SOCKET_NAME=$sock timeout "$_t" bash tests/venus/in-root.sh "$_r" -- "$@"
}

# Zink over whichever Vulkan driver in-root selected, on EGL surfaceless
# (no render node: the software loader path, where Zink takes CPU-type
# devices only with LIBGL_ALWAYS_SOFTWARE; Venus reports lavapipe's type).
ZINK_ENV="EGL_PLATFORM=surfaceless PIGLIT_PLATFORM=surfaceless_egl GALLIUM_DRIVER=zink
	LIBGL_ALWAYS_SOFTWARE=1 MESA_LOADER_DRIVER_OVERRIDE=zink"

vklog=$logs/35-graphics-vkmark.txt
: >"$logs/35-graphics-servers.log"
: >"$vklog"
for s in $roots_ok; do
	progress "vkmark --winsys headless, every default scene ($s, Venus)"
	in_root "$s" 300 vkmark --winsys headless -s 320x240 -b :duration=2 \
		>"$work/vkmark-$s.txt" 2>&1
	st=$?
	{ echo "== $s through gpu-server ($(date -u +%FT%TZ))"; cat "$work/vkmark-$s.txt"; } >>"$vklog"
	n=$(grep -c '^\[.*FPS:' "$work/vkmark-$s.txt")
	grep -E '^\[|Score' "$work/vkmark-$s.txt" | sed 's/^/    /'
	if [ $st -eq 0 ] && [ "$n" -eq $VKMARK_SCENES ] &&
	   grep -q "Device Name:.*Virtio-GPU Venus" "$work/vkmark-$s.txt" &&
	   grep -q "vkmark Score" "$work/vkmark-$s.txt"; then
		pass "vkmark-$s-all-scenes ($n scenes)"
	else
		tail -10 "$work/vkmark-$s.txt"; fail "vkmark-$s-all-scenes (exit $st, $n scenes)"
	fi
done

# A host driver without VK_EXT_external_memory_dma_buf (NVIDIA's): Mesa 25
# then shows no VK_KHR_swapchain unless the renderer emulates it
# (src/venus/vn_dma_buf.c). PEARVISOR_VENUS_EMULATE_DMA_BUF=1 makes a
# server on lavapipe behave so (never enables the host's, takes DMA_BUF out
# of every request); trixie's vkmark must still run, and the server must
# say it took DMA_BUF out of the WSI images' requests.
case " $roots_ok " in
*" trixie "*)
	progress "vkmark (trixie) against a server emulating dma-buf"
	sock3=$work/vtest-dmabuf.sock
	PEARVISOR_VENUS_EMULATE_DMA_BUF=1 VK_DRIVER_FILES=${PV_GFX_SERVER_ICD:-/usr/share/vulkan/icd.d/lvp_icd.json} \
		"$B/pearvisor" gpu-server --socket "$sock3" >"$work/server3.log" 2>&1 &
	server3=$!
	if wait_listening "$server3" "$work/server3.log"; then
		VTEST_SOCKET_NAME=$sock3 timeout 300 bash tests/venus/in-root.sh "$root_trixie" -- \
			vkmark --winsys headless -s 320x240 -b clear:duration=1 -b cube:duration=1 \
			-b texture:anisotropy=16:duration=1 >"$work/vkmark-dmabuf.txt" 2>&1
		st=$?
	else
		st=99
	fi
	kill "$server3" 2>/dev/null
	wait "$server3" 2>/dev/null
	{ echo "== trixie, server emulating dma-buf"; cat "$work/vkmark-dmabuf.txt"; } >>"$vklog"
	cat "$work/server3.log" >>"$logs/35-graphics-servers.log"
	n=$(grep -c '^\[.*FPS:' "$work/vkmark-dmabuf.txt")
	k=$(sed -n 's/.*took DMA_BUF out of \([0-9]*\) external-memory requests.*/\1/p' "$work/server3.log" | head -n 1)
	if [ $st -eq 0 ] && [ "$n" -eq 3 ] && [ "${k:-0}" -gt 0 ]; then
		pass "vkmark-trixie-emulated-dma-buf ($n scenes, DMA_BUF taken out of $k requests)"
	else
		tail -10 "$work/vkmark-dmabuf.txt"; fail "vkmark-trixie-emulated-dma-buf (exit $st, $n scenes, ${k:-no} requests)"
	fi
	;;
esac

# The native baseline's headless WSI on drivers without one (NVIDIA's):
# our layer (bench/headless-wsi) must carry vkmark natively through every
# scene, and must be what made the swapchain (its debug line), not the
# driver's own WSI.
case " $roots_ok " in
*" sid "*)
	progress "vkmark natively through the headless-WSI layer (sid, lavapipe)"
	L=$B/headless-wsi
	PV_IN_ROOT_NATIVE=1 PV_IN_ROOT_BIND=$L VK_LAYER_PATH=$L \
		VK_INSTANCE_LAYERS=VK_LAYER_PEARVISOR_headless_wsi PV_HEADLESS_WSI_DEBUG=1 \
		in_root sid 300 vkmark --winsys headless -s 320x240 -b :duration=1 \
		>"$work/vkmark-layer.txt" 2>&1
	st=$?
	{ echo "== sid natively with the headless-WSI layer"; cat "$work/vkmark-layer.txt"; } >>"$vklog"
	n=$(grep -c '^\[.*FPS:' "$work/vkmark-layer.txt")
	if [ $st -eq 0 ] && [ "$n" -eq $VKMARK_SCENES ] &&
	   grep -q "^pv-headless-wsi: swapchain 320x240" "$work/vkmark-layer.txt" &&
	   grep -q "Device Name:.*llvmpipe" "$work/vkmark-layer.txt" &&
	   grep -q "vkmark Score" "$work/vkmark-layer.txt"; then
		pass "vkmark-native-headless-wsi-layer ($n scenes)"
	else
		tail -10 "$work/vkmark-layer.txt"; fail "vkmark-native-headless-wsi-layer (exit $st, $n scenes)"
	fi
	;;
esac

case " $roots_ok " in
*" sid "*)
	progress "eglinfo: Zink on Venus, EGL surfaceless (sid)"
	# shellcheck disable=SC2086
	in_root sid 120 env $ZINK_ENV eglinfo.x86_64-linux-gnu -p surfaceless \
		>"$work/eglinfo.txt" 2>&1
	st=$?
	r=$(grep -m1 "OpenGL core profile renderer" "$work/eglinfo.txt")
	echo "    $r"
	if [ $st -eq 0 ] && echo "$r" | grep -q "zink.*Virtio-GPU Venus"; then
		pass eglinfo-zink-on-venus
	else
		grep -iE "error|warn" "$work/eglinfo.txt" | head; fail "eglinfo-zink-on-venus (exit $st)"
	fi

	progress "gpu-server inside the sid root (its lavapipe) for piglit"
	# The binary is built here; its one library the root lacks is copied.
	mkdir -p "$work/lib"
	cp -L "$(ldconfig -p | sed -n 's/.*libfdt.so.1 .*=> //p' | head -n 1)" "$work/lib/"
	sock2=$work/vtest-sid.sock
	PV_IN_ROOT_NATIVE=1 VTEST_SOCKET_NAME=$sock2 PV_IN_ROOT_BIND=$B \
		bash tests/venus/in-root.sh "$root_sid" -- env LD_LIBRARY_PATH="$work/lib" \
		"$B/pearvisor" gpu-server --socket "$sock2" >"$work/server-sid.log" 2>&1 &
	server2=$!
	wait_listening "$server2" "$work/server-sid.log" || fail server-in-sid-root
	progress "piglit '$PIGLIT_FILTER' (quick_gl): Zink on Venus vs Zink on lavapipe"
	ok=1
	for m in venus native; do
		nat=0
		[ $m = native ] && nat=1
		# shellcheck disable=SC2086
		VTEST_SOCKET_NAME=$sock2 PV_IN_ROOT_NATIVE=$nat timeout 900 bash tests/venus/in-root.sh \
			"$root_sid" -- env $ZINK_ENV piglit run -p surfaceless_egl \
			-c -t "$PIGLIT_FILTER" quick_gl "$work/piglit-$m" >"$work/piglit-$m.txt" 2>&1 ||
			{ tail -5 "$work/piglit-$m.txt"; fail "piglit-run-$m"; ok=0; }
		PV_IN_ROOT_NATIVE=1 in_root sid 120 piglit summary console "$work/piglit-$m" \
			>"$work/sum-$m.txt" 2>&1 || ok=0
	done
	if [ $ok = 1 ]; then
		# "name: status" per test; a difference not in the allowlist fails.
		grep -E '^[^ ].*: [a-z-]+$' "$work/sum-venus.txt" | sort >"$work/r-venus"
		grep -E '^[^ ].*: [a-z-]+$' "$work/sum-native.txt" | sort >"$work/r-native"
		pv=$(grep -c ': pass$' "$work/r-venus")
		pn=$(grep -c ': pass$' "$work/r-native")
		total=$(wc -l <"$work/r-native")
		diff "$work/r-native" "$work/r-venus" | grep '^[<>]' | sed 's/^[<>] //; s/: [a-z-]*$//' |
			sort -u >"$work/differ"
		bad=0
		while IFS= read -r t; do
			if grep -v '^#' "$ALLOW" | sed 's/ *#.*//' | grep -qxF "$t"; then
				echo "    differs (allowed): $t"
			else
				echo "    differs: $t: native $(grep -F "$t:" "$work/r-native" | head -1 | sed 's/.*: //')," \
					"venus $(grep -F "$t:" "$work/r-venus" | head -1 | sed 's/.*: //')"
				bad=$((bad + 1))
			fi
		done <"$work/differ"
		cp "$work/sum-venus.txt" "$logs/35-graphics-piglit-venus.txt"
		cp "$work/sum-native.txt" "$logs/35-graphics-piglit-native.txt"
		echo "    results: $total, pass: venus $pv, native $pn"
		if [ "$total" -gt 0 ] && [ "$pv" -gt 0 ] && [ $bad -eq 0 ]; then
			pass "piglit-zink-venus-matches-native ($pv/$total pass on both)"
		else
			fail "piglit-zink-venus-matches-native (venus $pv, native $pn of $total; $bad unexplained differences)"
		fi
	fi
	;;
*)
	skip "eglinfo-zink-on-venus: no sid root"
	skip "piglit-zink-venus-matches-native: no sid root"
	;;
esac

# The Khronos validation layer (bookworm's) on the server's own Vulkan
# calls: what the renderer sends the host driver, rewrites included
# (dma-buf, drm modifiers, memory import), must be valid usage. Lavapipe
# forgives much that NVIDIA does not (a LINEAR colour attachment lost the
# H100's device: docs/PERFORMANCE.md, run 29). Known and explained:
#  - VkBindBufferMemoryInfo-memory-02727 / VkBindImageMemoryInfo-memory-02729:
#    resources bound to host-pointer-imported memory were not created as
#    external (docs/venus-renderer.md, "Known issues");
#  - VkPhysicalDeviceProperties2-pNext-pNext: the layer (1.3.239) is older
#    than the driver and the protocol, and does not know their structs.
VAL_KNOWN="VUID-VkBindBufferMemoryInfo-memory-02727 VUID-VkBindImageMemoryInfo-memory-02729 VUID-VkPhysicalDeviceProperties2-pNext-pNext"
if [ -f /usr/share/vulkan/explicit_layer.d/VkLayer_khronos_validation.json ]; then
	progress "pv-vktest and vkmark against a server under the validation layer"
	sock4=$work/vtest-val.sock
	VK_INSTANCE_LAYERS=VK_LAYER_KHRONOS_validation \
		VK_DRIVER_FILES=${PV_GFX_SERVER_ICD:-/usr/share/vulkan/icd.d/lvp_icd.json} \
		"$B/pearvisor" gpu-server --socket "$sock4" >"$work/server-val.log" 2>&1 &
	server3=$!
	ran=0 st=0
	if wait_listening "$server3" "$work/server-val.log"; then
		for s in $roots_ok; do
			eval "_r=\$root_$s"
			VTEST_SOCKET_NAME=$sock4 PV_IN_ROOT_BIND=$B timeout 600 bash tests/venus/in-root.sh \
				"$_r" -- "$B/pv-vktest" --checks compute,copies,timeline,modifier \
				>>"$work/val-clients.txt" 2>&1 || st=$?
			VTEST_SOCKET_NAME=$sock4 timeout 300 bash tests/venus/in-root.sh "$_r" -- \
				vkmark --winsys headless -s 800x600 -b clear:duration=1 -b cube:duration=1 \
				-b texture:duration=1 >>"$work/val-clients.txt" 2>&1 || st=$?
			ran=$((ran + 1))
		done
	else
		st=99
	fi
	kill "$server3" 2>/dev/null
	wait "$server3" 2>/dev/null
	server3=
	cat "$work/server-val.log" >>"$logs/35-graphics-servers.log"
	found=$(grep -o 'VUID-[A-Za-z0-9_-]*\|SYNC-[A-Z-]*\|UNASSIGNED-[A-Za-z0-9_.-]*' \
		"$work/server-val.log" | sort | uniq -c | sort -rn)
	unknown=$(echo "$found" | awk -v known="$VAL_KNOWN" 'BEGIN {
		n = split(known, k, /[ \t\n]+/); for (i = 1; i <= n; i++) ok[k[i]] = 1 }
		NF == 2 && !($2 in ok) { printf "%s(%s) ", $2, $1 }')
	echo "$found" | sed 's/^/    /'
	if [ $st -eq 0 ] && [ "$ran" -gt 0 ] && [ -z "$unknown" ]; then
		pass "validation-layer-clean ($ran roots; only the known VUIDs)"
	else
		tail -20 "$work/val-clients.txt"
		fail "validation-layer-clean (exit $st, $ran roots; new: ${unknown:-none})"
	fi
else
	fail "validation-layer-clean: no VK_LAYER_KHRONOS_validation (tools/setup-host.sh installs it)"
fi

progress "servers after the run"
for l in "$log" "$work/server-sid.log"; do
	[ -f "$l" ] || continue
	cat "$l" >>"$logs/35-graphics-servers.log"
	if grep -qiE "AddressSanitizer|runtime error|segmentation|lost:" "$l"; then
		tail -20 "$l"; fail "server-log-clean ($(basename "$l"))"
	else
		pass "server-log-clean ($(basename "$l"))"
	fi
done
if kill -0 "$server" 2>/dev/null && { [ -z "$server2" ] || kill -0 "$server2" 2>/dev/null; }; then
	pass servers-alive
else
	fail servers-alive
fi
[ -n "$server2" ] && kill -TERM "$server2" 2>/dev/null
server2=
kill -TERM "$server" 2>/dev/null
wait "$server" 2>/dev/null
server=
