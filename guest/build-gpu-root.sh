#!/bin/sh
# build-gpu-root.sh trixie|sid
# Builds (or reuses) an x86_64 Debian root with Mesa's Venus driver and the
# GPU test programs, for running unmodified guest Vulkan userspace against
# our vtest server from a chroot. Prints the root's path as the last line.
#
# The cache key is a hash of the suite and its package list, so editing the
# list below makes a fresh root; an unchanged list reuses the cached one.
set -eu
suite=${1:-}
case $suite in
trixie)
	pkgs="mesa-vulkan-drivers vulkan-tools vkmark virgl-server"
	;;
sid)
	# libegl1..libgles2: virgl_test_server needs them for the benchmark's
	# virglrenderer comparison. mesa-utils-bin (eglinfo) and piglit: OpenGL
	# through Zink on Venus (tests/suites/35-graphics.sh).
	pkgs="mesa-vulkan-drivers vulkan-tools llama.cpp-tests llama.cpp-tools
	      libggml0-backend-vulkan vkmark virgl-server python3-gguf libegl1 libegl-mesa0 libgl1
	      libopengl0 libgles2 mesa-utils-bin piglit"
	;;
*)
	echo "usage: $0 trixie|sid" >&2
	exit 2
	;;
esac
pkgs=$(echo $pkgs)
mirror=${PV_DEBIAN_MIRROR:-http://deb.debian.org/debian}
cache=${PV_ROOT_CACHE:-/var/cache/pearvisor/roots}
key=$(printf '%s\n%s\n' "$suite" "$pkgs" | sha256sum | cut -c1-12)
root=$cache/$suite-$key

if [ -f "$root/.pv-root-complete" ]; then
	echo "build-gpu-root: cached $suite root ($pkgs)" >&2
	echo "$root"
	exit 0
fi

mkdir -p "$cache"
work=$root.tmp.$$
cleanup() {
	for m in "$work/proc" "$work/dev"; do
		mountpoint -q "$m" 2>/dev/null && umount -l "$m"
	done
	# Never delete through a mount that is still attached (it would reach
	# the host's /dev).
	if ! grep -q " $work/" /proc/mounts; then rm -rf "$work"; fi
}
trap cleanup EXIT INT TERM

echo "build-gpu-root: debootstrap $suite (minbase) into $work" >&2
debootstrap --variant=minbase --arch=amd64 "$suite" "$work" "$mirror" >&2

echo "build-gpu-root: installing into $suite root: $pkgs" >&2
cp /etc/resolv.conf "$work/etc/resolv.conf" 2>/dev/null || true
mount -t proc proc "$work/proc"
mount --bind /dev "$work/dev"
# Services must not start inside the chroot.
printf '#!/bin/sh\nexit 101\n' >"$work/usr/sbin/policy-rc.d"
chmod +x "$work/usr/sbin/policy-rc.d"
# The build machine's clock may run past the mirror's Valid-Until.
chroot "$work" env DEBIAN_FRONTEND=noninteractive apt-get -o Acquire::Check-Valid-Until=false update -q >&2
chroot "$work" env DEBIAN_FRONTEND=noninteractive \
	apt-get install -y -q --no-install-recommends $pkgs >&2
chroot "$work" apt-get clean
umount -l "$work/proc" "$work/dev"

test -f "$work/usr/share/vulkan/icd.d/virtio_icd.json" ||
	{ echo "build-gpu-root: no Venus ICD in the $suite root" >&2; exit 1; }
printf '%s\n' "$pkgs" >"$work/.pv-root-complete"
rm -rf "$root"
mv "$work" "$root"
trap - EXIT INT TERM
echo "build-gpu-root: $suite root ready: $root" >&2
echo "$root"
