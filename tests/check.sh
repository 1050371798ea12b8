#!/bin/sh
# The project's whole test run (README's test command; .ci/run calls it).
# Each tests/suites/*.sh is one suite: it prints "PASS name", "FAIL name" or
# "SKIP name: why" lines. This script runs them in order, keeps a log per
# suite under build/test-logs, and ends with the summary line
# "N passed, N failed, N skipped".
set -u
cd "$(dirname "$0")/.."
sh tools/setup-host.sh || { echo "setup-host failed"; exit 1; }
logs=build/test-logs
mkdir -p "$logs"
pass=0 fail=0 skip=0
only=${PV_SUITES:-}
for s in tests/suites/*.sh; do
	name=$(basename "$s" .sh)
	if [ -n "$only" ] && ! echo " $only " | grep -q " $name "; then continue; fi
	echo "=== suite $name"
	start=$(date +%s)
	sh "$s" >"$logs/$name.log" 2>&1
	st=$?
	grep -E '^(PASS|FAIL|SKIP)' "$logs/$name.log" | sed 's/^/  /'
	p=$(grep -c '^PASS' "$logs/$name.log")
	f=$(grep -c '^FAIL' "$logs/$name.log")
	k=$(grep -c '^SKIP' "$logs/$name.log")
	if [ $st -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "  FAIL $name (suite exited $st)"; f=1
	fi
	if [ "$f" -ne 0 ]; then
		echo "  --- last lines of $logs/$name.log:"
		tail -n 40 "$logs/$name.log" | sed 's/^/  | /'
	fi
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + k))
	echo "  ($name: ${p} passed, ${f} failed, ${k} skipped in $(( $(date +%s) - start ))s)"
done
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
