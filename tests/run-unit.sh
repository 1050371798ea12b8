#!/bin/sh
# run-unit.sh DIR TEST... : runs unit-test executables, prints their PASS/FAIL
# lines, exits nonzero if any failed or crashed.
dir=$1; shift
rc=0
for t in "$@"; do
	out=$("$dir/$t" 2>&1); st=$?
	printf '%s\n' "$out" | sed "s/^\(PASS\|FAIL\) /\1 $t./"
	if [ $st -ne 0 ]; then
		printf '%s\n' "$out" | grep -q '^FAIL ' || echo "FAIL $t (exit status $st)"
		rc=1
	fi
done
exit $rc
