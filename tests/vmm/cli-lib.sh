# Shared by the `pearvisor run` CLI suites (15-vmm-cli, 16-vmm-gpu-cli);
# sourced, not run. Expects $PV (the binary under test).

# fake_image PATH MIB: a minimal arm64 Image header (magic at 0x38,
# image_size MIB) and 4 KiB of zeros.
fake_image() {
	python3 - "$1" "$2" <<'PY'
import struct, sys
size_mib = int(sys.argv[2])
hdr = struct.pack('<II QQQ QQQ II', 0, 0, 0, size_mib << 20, 0xa, 0, 0, 0, 0x644d5241, 0)
open(sys.argv[1], 'wb').write(hdr + bytes(4096))
PY
}

# expect NAME STATUS PATTERN -- ARGS...: `$PV run ARGS` exits with STATUS
# and prints a line matching PATTERN (stdout or stderr).
expect() {
	name=$1 want=$2 pat=$3; shift 4
	out=$("$PV" run "$@" 2>&1 </dev/null); st=$?
	if [ "$st" -ne "$want" ]; then
		echo "FAIL $name: status $st, wanted $want"; printf '%s\n' "$out" | sed 's/^/    /'
	elif ! printf '%s\n' "$out" | grep -q -- "$pat"; then
		echo "FAIL $name: output lacks '$pat'"; printf '%s\n' "$out" | sed 's/^/    /'
	else
		echo "PASS $name"
	fi
}
