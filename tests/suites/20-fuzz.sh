#!/bin/sh
# Every libFuzzer target in tests/fuzz (fuzz_*.c): replay the committed seed
# corpus, then fuzz for a bounded time (PV_FUZZ_SECONDS, default 60 each).
# A crash, leak or sanitizer report fails that target.
set -u
cd "$(dirname "$0")/../.."
secs=${PV_FUZZ_SECONDS:-60}
for src in tests/fuzz/fuzz_*.c; do
	[ -e "$src" ] || continue
	name=$(basename "$src" .c)
	name=${name#fuzz_}
	log=build/fuzz/$name.log
	mkdir -p build/fuzz
	if sh tests/fuzz/run.sh "$name" 0 >"$log" 2>&1 &&
	   sh tests/fuzz/run.sh "$name" "$secs" >>"$log" 2>&1; then
		execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$')
		echo "PASS fuzz-$name (${execs:-?} inputs in ${secs}s, seeds replayed)"
	else
		tail -n 30 "$log"
		echo "FAIL fuzz-$name (see $log)"
	fi
done
