#!/bin/sh
# bench/replay-callgrind.sh [PEARVISOR]: instructions the renderer itself
# spends replaying a recorded command buffer, per group of four commands
# (vkCmdPushConstants, vkCmdBindDescriptorSets, vkCmdPipelineBarrier,
# vkCmdFillBuffer: `vn-micro record`), counted by callgrind on lavapipe.
#
# Token generation in llama.cpp waits for the server to replay the command
# buffer the guest just recorded (docs/PERFORMANCE.md, runs 13-18), so these
# instructions are on the critical path. Instruction counts do not depend on
# this host's load, unlike its timings. Prints, per group: the whole
# replay (vn_exec_stream inside vkExecuteCommandStreamsMESA), the part
# spent in the driver's vkCmd* calls, and the rest ("ours"), with the
# decode's share.
set -eu
cd "$(dirname "$0")/.."
pv=${1:-build/x86_64/pearvisor}
make -j2 build/x86_64/pearvisor build/x86_64/vn-micro >/dev/null
work=$(mktemp -d /tmp/replay-cg.XXXXXX)
srv=
trap '[ -n "$srv" ] && kill $srv 2>/dev/null; rm -rf "$work"' EXIT INT TERM
icd=/usr/share/vulkan/icd.d
VK_DRIVER_FILES=$icd/lvp_icd.json valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" \
	"$pv" gpu-server --isolation thread --socket "$work/s.sock" >"$work/server.log" 2>&1 &
srv=$!
for _ in $(seq 120); do [ -S "$work/s.sock" ] && break; sleep 0.5; done
# 3000 iterations: vn-micro times 300 command buffers (+1 warm-up) of 512
# groups each.
VN_PERF=no_fence_feedback,no_event_feedback VK_DRIVER_FILES=$icd/virtio_icd.json VN_DEBUG=vtest \
	VTEST_SOCKET_NAME="$work/s.sock" timeout 900 build/x86_64/vn-micro record -n 3000 >/dev/null
kill "$srv"
wait "$srv" 2>/dev/null || true
srv=
groups=$((301 * 512))
callgrind_annotate --inclusive=yes "$work/cg.out" 2>/dev/null | grep 'pearvisor\]$' |
	awk -v g=$groups '
	{ gsub(",", "", $1) }
	/ src\/venus\/vn_dispatch.c:vn_exec_stream.2 / { tot = $1 }
	/gen\/venus\/vn_gen_cmds[0-9].c:call_vk/ { drv += $1 }
	/ src\/venus\/vn_codec.c:vn_decode_cmd / { dec = $1 }
	END {
		if (!tot) { print "replay-callgrind: no replay found"; exit 1 }
		printf "per group of 4 commands: replay %.0f Ir, driver calls %.0f, ours %.0f (decode %.0f)\n",
			tot / g, drv / g, (tot - drv) / g, dec / g
	}'
