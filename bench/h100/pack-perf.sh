#!/bin/bash
# pack-perf.sh: bundles this host's perf (linux-perf) and the libraries it
# needs beyond glibc into .carry/perf.tar.xz, so run.sh's "perf" workload
# can profile the server on the device machine, which has no perf.
set -eu
dest=${1:-/work/main/.carry}
perf=$(command -v perf_6.1 || readlink -f /usr/bin/perf)
tmp=$(mktemp -d)
mkdir -p "$tmp/perf/lib"
cp "$perf" "$tmp/perf/perf"
ldd "$perf" | awk '$3 ~ /^\// {print $3}' | while read -r lib; do
	case $(basename "$lib") in
	libc.so.* | libm.so.* | libpthread.so.* | libdl.so.* | ld-linux*) ;;
	*) cp -L "$lib" "$tmp/perf/lib/" ;;
	esac
done
cat >"$tmp/perf/record.sh" <<'EOS'
#!/bin/sh
# record.sh OUT CMD...: CMD under perf (cpu-clock samples), with CMD's own
# library path restored so it never sees perf's libraries.
out=$1; shift
orig=${LD_LIBRARY_PATH:-}
LD_LIBRARY_PATH=/perf/lib${orig:+:$orig} exec /perf/perf record -q -e cpu-clock -F 4999 -o "$out" -- env LD_LIBRARY_PATH="$orig" "$@"
EOS
chmod +x "$tmp/perf/record.sh"
tar -C "$tmp" -cf - perf | xz -T2 -6 >"$dest/perf.tar.xz"
rm -rf "$tmp"
ls -la "$dest/perf.tar.xz"
