#!/bin/sh
# Installs everything PearVisor needs to build and test on a Debian 12 (bookworm)
# x86_64 host. Idempotent: a second run only checks.
set -eu

need_root() { [ "$(id -u)" = 0 ] || { echo "setup-host: run as root" >&2; exit 1; }; }

# Re-run whenever this script changes: the stamp holds its hash.
stamp=/var/lib/pearvisor-setup.stamp
want=$(sha256sum "$0" | cut -d' ' -f1)
[ "$(cat "$stamp" 2>/dev/null)" = "$want" ] && [ "${PV_SETUP_FORCE:-0}" != 1 ] && exit 0
need_root

export DEBIAN_FRONTEND=noninteractive

# bookworm-backports carries Mesa 25.0.7 (lavapipe + the Venus ICD) for the host.
if ! grep -rqs bookworm-backports /etc/apt/sources.list /etc/apt/sources.list.d/; then
	cat >/etc/apt/sources.list.d/pearvisor-backports.sources <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi
dpkg --print-foreign-architectures | grep -qx arm64 || dpkg --add-architecture arm64

apt-get update -q
apt-get install -y -q --no-install-recommends \
	build-essential pkg-config python3 git ca-certificates \
	clang llvm libclang-rt-14-dev \
	gcc-aarch64-linux-gnu libc6-dev-arm64-cross \
	libfdt-dev zlib1g-dev zlib1g-dev:arm64 libvulkan-dev:arm64 \
	qemu-system-arm qemu-user-static binfmt-support qemu-utils \
	debootstrap e2fsprogs cpio xz-utils zstd file \
	glslang-tools spirv-tools vulkan-validationlayers
apt-get install -y -q --no-install-recommends -t bookworm-backports \
	mesa-vulkan-drivers libvulkan1 libvulkan-dev vulkan-tools 2>/dev/null ||
apt-get install -y -q --no-install-recommends \
	mesa-vulkan-drivers libvulkan1 libvulkan-dev vulkan-tools

# libfdt-dev is not multi-arch co-installable: the arm64 copy goes into a
# private sysroot that the cross build links against statically.
sysroot=/opt/pearvisor/sysroot-arm64
if [ ! -f "$sysroot/usr/lib/aarch64-linux-gnu/libfdt.a" ]; then
	tmp=$(mktemp -d)
	(cd "$tmp" && apt-get download -q libfdt-dev:arm64 libfdt1:arm64)
	mkdir -p "$sysroot"
	for deb in "$tmp"/*.deb; do dpkg-deb -x "$deb" "$sysroot"; done
	rm -rf "$tmp"
fi

# The Venus protocol code is generated from the Vulkan registry. We pin the
# registry and the matching C headers to trixie's libvulkan-dev 1.4.309 (the
# version Mesa 25.0.7 guests are built against), kept apart from the host's
# own 1.3 headers.
vksdk=/opt/pearvisor/vulkan-1.4.309
if [ ! -f "$vksdk/usr/share/vulkan/registry/vk.xml" ]; then
	tmp=$(mktemp -d)
	"$(dirname "$0")/debian-fetch.sh" trixie "$tmp" libvulkan-dev=1.4.309.0-1
	mkdir -p "$vksdk"
	dpkg-deb -x "$tmp"/libvulkan-dev_1.4.309.0-1_amd64.deb "$vksdk"
	rm -rf "$tmp"
fi

echo "$want" >"$stamp"
