#!/bin/sh
# Builds the Venus decode fuzzer without make:
#   tests/fuzz/build-venus-fuzz.sh [OUTDIR]     (default build/fuzz)
# then run e.g.:
#   build/fuzz/fuzz_venus_decode -max_total_time=60 tests/fuzz/corpus/venus_decode
set -eu
cd "$(dirname "$0")/../.."
OUT=${1:-build/fuzz}
VKSDK=${VKSDK:-/opt/pearvisor/vulkan-1.4.309}
VK_XML=${VK_XML:-$VKSDK/usr/share/vulkan/registry/vk.xml}
mkdir -p "$OUT/gen/venus"
python3 tools/gen_venus.py "$VK_XML" tools/venus "$OUT/gen/venus"
clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined -Isrc -I"$OUT/gen" -I"$VKSDK/usr/include" \
	-o "$OUT/fuzz_venus_decode" tests/fuzz/fuzz_venus_decode.c \
	src/venus/vn_codec.c src/venus/vn_objects.c src/os/log.c \
	"$OUT"/gen/venus/vn_gen_types.c "$OUT"/gen/venus/vn_gen_misc.c \
	"$OUT"/gen/venus/vn_gen_cmds0.c "$OUT"/gen/venus/vn_gen_cmds1.c \
	"$OUT"/gen/venus/vn_gen_cmds2.c -lpthread
echo "built $OUT/fuzz_venus_decode"
