#!/bin/sh
# libFuzzer smoke test of the virtio transport/virtqueues: replay the
# committed seeds, then fuzz for PV_FUZZ_SECONDS (default 30). Any crash,
# sanitizer report or leak fails the suite.
cd "$(dirname "$0")/../.."
secs=${PV_FUZZ_SECONDS:-30}
if ! command -v clang >/dev/null 2>&1 ||
   ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
	echo "SKIP fuzz_virtqueue: clang with libFuzzer not installed"
	exit 0
fi
echo "building and replaying seeds"
if sh tests/fuzz/run.sh virtqueue 0; then
	echo "PASS fuzz_virtqueue_seeds"
else
	echo "FAIL fuzz_virtqueue_seeds"
	exit 1
fi
echo "fuzzing for ${secs}s"
if sh tests/fuzz/run.sh virtqueue "$secs"; then
	echo "PASS fuzz_virtqueue_${secs}s"
else
	echo "FAIL fuzz_virtqueue_${secs}s (reproducer in build/fuzz/crashes/)"
	exit 1
fi
