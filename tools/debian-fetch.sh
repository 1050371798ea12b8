#!/bin/sh
# debian-fetch.sh SUITE DESTDIR PKG[=VERSION]...
# Downloads .debs from another Debian suite without touching the host's apt
# configuration: a private sources list and state directory per suite.
set -eu
suite=$1 dest=$2; shift 2
arch=${PV_FETCH_ARCH:-amd64}
state=/var/cache/pearvisor/apt-$suite-$arch
mkdir -p "$state/lists/partial" "$state/cache/archives/partial" "$dest"
cat >"$state/sources.list" <<SRC
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $suite main
SRC
cat >"$state/apt.conf" <<CONF
Dir::Etc::SourceList "$state/sources.list";
Dir::Etc::SourceParts "/nonexistent";
Dir::State::Lists "$state/lists";
Dir::Cache "$state/cache";
APT::Architecture "$arch";
APT::Architectures { "$arch"; };
CONF
export APT_CONFIG="$state/apt.conf"
# Refresh the index at most once a day.
if [ -z "$(find "$state/lists" -name '*Packages*' -mtime -1 2>/dev/null | head -1)" ]; then
	apt-get update -q >/dev/null
fi
cd "$dest"
apt-get download -q "$@" 2>&1 | grep -v '^W: Download is performed unsandboxed' || true
for p in "$@"; do
	n=${p%%=*}
	ls "$dest"/"${n}"_*.deb >/dev/null 2>&1 || { echo "debian-fetch: $p not downloaded from $suite" >&2; exit 1; }
done
