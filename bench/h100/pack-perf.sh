#!/bin/bash
# pack-perf.sh: bundles this host's perf (linux-perf) and the libraries it
# needs beyond glibc into .carry/perf.tar.xz, so run.sh's "perf" workload
# can profile the server on the device machine, which has no perf. Run it
# as "ld.so --library-path /perf/lib /perf/perf ...", so that only perf
# itself, not what it starts, sees these libraries.
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
tar -C "$tmp" -cf - perf | xz -T2 -6 >"$dest/perf.tar.xz"
rm -rf "$tmp"
ls -la "$dest/perf.tar.xz"
