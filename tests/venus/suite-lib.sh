# Shared by the GPU suites (31-venus-vtest, 35-graphics); sourced, not run.
# Expects $work (a scratch directory).

pass() { echo "PASS $*"; }
fail() { echo "FAIL $*"; }
skip() { echo "SKIP $*"; }
progress() { echo "--- $*"; }

# build_all: `make all` (programs the suites run), as the check "build";
# returns nonzero after printing the log's tail when it fails.
build_all() {
	progress "build"
	if timeout 1800 make -j2 all >"$work/build.log" 2>&1; then
		pass build
		return 0
	fi
	tail -30 "$work/build.log"
	fail build
	return 1
}

# build_roots: builds or reuses the trixie and sid guest roots; sets
# root_trixie / root_sid and roots_ok (the suites that are ready).
build_roots() {
	roots_ok=
	for s in trixie sid; do
		progress "guest root $s (cached under /var/cache/pearvisor/roots)"
		r=$(timeout 2400 sh guest/build-gpu-root.sh "$s" 2>"$work/root-$s.log" | tail -n 1)
		if [ -n "$r" ] && [ -f "$r/.pv-root-complete" ]; then
			pass "root-$s"
			eval "root_$s=\$r"
			roots_ok="$roots_ok $s"
		else
			tail -20 "$work/root-$s.log"
			fail "root-$s"
		fi
	done
}

# wait_listening PID LOG: waits up to 60 s for the gpu-server PID to log
# "listening on"; returns nonzero (after printing its log) if it never did.
wait_listening() {
	for _ in $(seq 60); do
		grep -q "listening on" "$2" && return 0
		kill -0 "$1" 2>/dev/null || break
		sleep 1
	done
	grep -q "listening on" "$2" && return 0
	cat "$2"
	return 1
}
