#!/bin/sh
# tests/fuzz/run.sh NAME [SECONDS]
#
# Builds tests/fuzz/fuzz_NAME.c with clang, libFuzzer and ASan/UBSan (the
# library instrumented with -fsanitize=fuzzer-no-link, in build/fuzz) and
# fuzzes it for SECONDS (default 60) starting from the committed seeds in
# tests/fuzz/corpus/NAME. New inputs go to build/fuzz/corpus/NAME, crashes to
# build/fuzz/crashes/. SECONDS=0 only replays the seeds (a regression run).
# Exits nonzero when the target crashed.
set -eu
cd "$(dirname "$0")/../.."
name=${1:?usage: tests/fuzz/run.sh NAME [SECONDS]}
name=${name#fuzz_}
secs=${2:-60}
out=build/fuzz
[ -f "tests/fuzz/fuzz_$name.c" ] || { echo "no tests/fuzz/fuzz_$name.c" >&2; exit 2; }

make -j2 O=$out CC=clang SANITIZE=1 CFLAGS=-fsanitize=fuzzer-no-link "$out/fuzz/fuzz_$name"

seeds=tests/fuzz/corpus/$name
work=$out/corpus/$name
mkdir -p "$work" "$out/crashes" "$seeds"
if [ "$secs" -eq 0 ]; then
	set -- -runs=0
else
	set -- -max_total_time="$secs"
fi
# The work dir comes first: libFuzzer writes new inputs there, never into
# the committed seeds.
exec "$out/fuzz/fuzz_$name" "$@" -timeout=10 -rss_limit_mb=2048 \
	-print_final_stats=1 -artifact_prefix="$out/crashes/${name}-" "$work" "$seeds"
