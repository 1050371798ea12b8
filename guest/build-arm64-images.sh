#!/bin/sh
# guest/build-arm64-images.sh [--print-dir]
#
# Builds the images of the nested test rig (docs/testing-nested.md):
#   vmlinuz            trixie arm64 kernel (L1 and L2 run the same one)
#   l2-initrd.img      its stock initrd, made by initramfs-tools inside the L2 root
#   l2-root.img        ext4 root for L2 (1 GiB sparse) with /sbin/pv-test-init
#   l1-root.img        ext4 root for L1: L2 root + qemu-system-arm, plus the L2
#                      kernel and initrd under /pv/l2
#   l1-initramfs.cpio  busybox + the modules L1 needs to mount l1-root.img
# Everything lands in /var/cache/pearvisor/nested/<key>, key = hash of this
# recipe (this file and guest/nested/*), so an unchanged recipe is built once.
# The pearvisor binary is NOT in any image: tests/nested/run-l1.sh adds it per
# run, so rebuilding pearvisor never rebuilds images.
#
# With --print-dir only prints the cache directory (built or not).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

# Package lists: extend here.
# udev is what lets the stock initrd load virtio_mmio/virtio_blk on its own.
# The GPU packages (Mesa's Vulkan drivers: lavapipe and Venus; vulkaninfo)
# are for the virtio-gpu checks (tests/suites/45-nested-gpu.sh): L2 runs
# Venus on /dev/dri/renderD128, and L1, which copies the L2 root, gets
# libvulkan1 + lavapipe for the dynamic `make ARCH=aarch64 GPU=1` pearvisor
# (docs/virtio-gpu.md). One image set serves every nested suite.
GPU_PACKAGES="mesa-vulkan-drivers vulkan-tools libvulkan1"
L2_PACKAGES="busybox udev kmod initramfs-tools zstd e2fsprogs $GPU_PACKAGES"
L1_PACKAGES="qemu-system-arm"
SUITE=trixie
MIRROR=http://deb.debian.org/debian
KPKG_META=linux-image-arm64
L2_IMAGE_SIZE=2G
L1_IMAGE_SIZE=4G
# Modules L1's initramfs loads to find and mount its root disk.
L1_MODULES="virtio_mmio virtio_blk crc32c_generic ext4"

key=$(cat "$0" guest/nested/* | sha256sum | cut -c1-16)
cache=/var/cache/pearvisor/nested/$key
# The debootstrapped trees are the slow part (minutes); they are cached apart,
# keyed by what goes into them only, so editing the test init or L1's init
# rebuilds just the images (seconds).
ROOTS_RECIPE="v1 $SUITE $KPKG_META | $L2_PACKAGES | $L1_PACKAGES"
rkey=$(echo "$ROOTS_RECIPE" | sha256sum | cut -c1-16)
roots=/var/cache/pearvisor/nested/roots-$rkey
if [ "${1:-}" = --print-dir ]; then echo "$cache"; exit 0; fi
if [ -f "$cache/done" ]; then
	echo "build-arm64-images: cached in $cache"
	exit 0
fi

[ "$(id -u)" = 0 ] || { echo "build-arm64-images: must run as root (debootstrap, chroot)" >&2; exit 1; }
# One build at a time (suites may start together); the winner's result is
# then reused by the others.
mkdir -p /var/cache/pearvisor/nested
exec 9>/var/cache/pearvisor/nested/.build.lock
if ! flock -n 9; then
	echo "build-arm64-images: another build is running; waiting for it"
	flock 9
fi
if [ -f "$cache/done" ]; then
	echo "build-arm64-images: cached in $cache"
	exit 0
fi
t0=$(date +%s)
step() { echo "build-arm64-images: [$(( $(date +%s) - t0 ))s] $*"; }

# arm64 binaries run under qemu-user: debootstrap's second stage, the kernel's
# postinst (depmod, update-initramfs) and our chroot apt run through binfmt.
if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
	mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
fi
update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || true
[ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] ||
	{ echo "build-arm64-images: binfmt for qemu-aarch64 not registered (qemu-user-static, binfmt-support)" >&2; exit 1; }

if [ ! -f "$roots/done" ]; then
	rm -rf "$roots"
	mkdir -p "$roots/debs" "$roots/kernel"
	step "fetching the trixie arm64 kernel and busybox-static"
	PV_FETCH_ARCH=arm64 sh tools/debian-fetch.sh $SUITE "$roots/debs" $KPKG_META busybox-static
	kpkg=$(dpkg-deb -f "$roots/debs/${KPKG_META}_"*.deb Depends | tr ',' '\n' |
		sed -n 's/^ *\(linux-image-6\.12\.[^ ]*-arm64\) .*/\1/p' | head -1)
	[ -n "$kpkg" ] || { echo "build-arm64-images: no linux-image-6.12.*-arm64 in $KPKG_META's Depends" >&2; exit 1; }
	PV_FETCH_ARCH=arm64 sh tools/debian-fetch.sh $SUITE "$roots/debs" "$kpkg"
	dpkg-deb -x "$roots/debs/${kpkg}_"*.deb "$roots/kernel"
	echo "${kpkg#linux-image-}" >"$roots/kernel-version"

	# L2 root: debootstrap with the exact kernel package; its postinst runs
	# Debian's initramfs-tools, which makes the stock initrd.
	step "debootstrap arm64 $SUITE for L2 ($L2_PACKAGES $kpkg): takes minutes under qemu-user"
	inc=$(echo "$L2_PACKAGES $kpkg" | tr ' ' ',')
	debootstrap --arch arm64 --variant=minbase --include="$inc" $SUITE "$roots/l2root" $MIRROR \
		>"$roots/debootstrap-l2.log" 2>&1 ||
		{ tail -n 30 "$roots/debootstrap-l2.log"; echo "build-arm64-images: debootstrap failed" >&2; exit 1; }
	rm -f "$roots/l2root/var/cache/apt/archives/"*.deb

	# L1 root: a copy of the L2 root plus what L1 runs (qemu, for the
	# comparison runs and the benchmark).
	step "L1 root: copy of the L2 root + $L1_PACKAGES (apt in an arm64 chroot)"
	cp -a "$roots/l2root" "$roots/l1root"
	mount -t proc proc "$roots/l1root/proc"
	trap 'umount "$roots/l1root/proc" 2>/dev/null || true' EXIT
	DEBIAN_FRONTEND=noninteractive chroot "$roots/l1root" sh -c \
		"apt-get update -q && apt-get install -y -q --no-install-recommends $L1_PACKAGES" \
		>"$roots/apt-l1.log" 2>&1 ||
		{ tail -n 30 "$roots/apt-l1.log"; echo "build-arm64-images: apt in L1 root failed" >&2; exit 1; }
	umount "$roots/l1root/proc"
	trap - EXIT
	rm -rf "$roots/l1root/var/cache/apt/archives/"*.deb "$roots/l1root/var/lib/apt/lists/"*_Packages
	[ -x "$roots/l1root/usr/bin/qemu-system-aarch64" ] ||
		{ echo "build-arm64-images: no qemu-system-aarch64 in the L1 root" >&2; exit 1; }
	date -u +%FT%TZ >"$roots/done"
fi
kver=$(cat "$roots/kernel-version")
step "kernel $kver (roots in $roots)"

work=$cache/work
rm -rf "$work"
mkdir -p "$work"
cp "$roots/kernel/boot/vmlinuz-$kver" "$cache/vmlinuz"
echo "$kver" >"$cache/kernel-version"
[ -f "$roots/l2root/boot/initrd.img-$kver" ] ||
	{ echo "build-arm64-images: initramfs-tools made no initrd.img-$kver" >&2; exit 1; }
cp "$roots/l2root/boot/initrd.img-$kver" "$cache/l2-initrd.img"

step "checking the stock initrd for virtio_mmio, virtio_blk, ext4"
chroot "$roots/l2root" lsinitramfs "/boot/initrd.img-$kver" >"$work/initrd-list.txt"
for m in virtio_mmio virtio_blk ext4; do
	grep -Eq "/$m\.ko(\.[a-z]+)?\$" "$work/initrd-list.txt" || {
		echo "build-arm64-images: FATAL: stock initrd lacks $m.ko" >&2
		cp "$work/initrd-list.txt" "$cache/initrd-list.txt"
		exit 1
	}
done
echo "  initrd has: $(grep -Eo '/(virtio_mmio|virtio_blk|ext4)\.ko[^/]*$' "$work/initrd-list.txt" | tr '\n' ' ')"

l2=$work/l2root
cp -a "$roots/l2root" "$l2"
# The test init and a quiet, predictable system. hostname, fstab: the
# initrd's root= mounts / read-only; tests remount it read-write as needed.
install -m 0755 guest/nested/pv-test-init "$l2/sbin/pv-test-init"
echo pv-l2 >"$l2/etc/hostname"
: >"$l2/etc/fstab"

step "making l2-root.img ($L2_IMAGE_SIZE sparse ext4)"
rm -f "$cache/l2-root.img"
truncate -s $L2_IMAGE_SIZE "$cache/l2-root.img"
mkfs.ext4 -q -L pvl2root -d "$l2" "$cache/l2-root.img"

# ---- L1 root image: the L1 tree plus the L2 kernel + initrd where the
# in-L1 scripts expect them (/pv/l2), and a mount point for the per-run payload.
l1=$work/l1root
cp -a "$roots/l1root" "$l1"
mkdir -p "$l1/pv/l2" "$l1/pv/run"
cp "$cache/vmlinuz" "$l1/pv/l2/vmlinuz"
cp "$cache/l2-initrd.img" "$l1/pv/l2/initrd.img"
echo pv-l1 >"$l1/etc/hostname"
step "making l1-root.img ($L1_IMAGE_SIZE sparse ext4)"
rm -f "$cache/l1-root.img"
truncate -s $L1_IMAGE_SIZE "$cache/l1-root.img"
mkfs.ext4 -q -L pvl1root -d "$l1" "$cache/l1-root.img"

# ---- L1 initramfs: static busybox, the modules (uncompressed, in load
# order from modules.dep of the same kernel), and guest/nested/l1-init.
step "L1 initramfs"
ir=$work/l1initramfs
mkdir -p "$ir/bin" "$ir/lib/modules" "$ir/dev" "$ir/proc" "$ir/sys" "$ir/mnt/root" "$ir/pv"
mkdir -p "$work/bb"
dpkg-deb -x "$roots/debs/busybox-static_"*.deb "$work/bb"
cp "$work/bb/usr/bin/busybox" "$ir/bin/busybox"
for app in sh mount umount insmod mkdir cat sleep poweroff findfs chroot ls echo grep sed cut dmesg uname; do
	ln -sf busybox "$ir/bin/$app"
done
moddir=$roots/l2root/lib/modules/$kver
depfile=$moddir/modules.dep
: >"$work/modorder"
# Depth-first: a module's dependencies come before it, each once.
add_mod() {
	local path d   # recursion: each level keeps its own
	path=$(grep -E "(^|/)$1\.ko(\.[a-z]+)?:" "$depfile" | head -1 | cut -d: -f1)
	[ -n "$path" ] || return 0   # built in
	grep -qx "$path" "$work/modorder" && return 0
	for d in $(grep -E "^$path:" "$depfile" | cut -d: -f2); do
		add_mod "$(basename "$d" | sed 's/\.ko.*//')"
	done
	echo "$path" >>"$work/modorder"
}
for m in $L1_MODULES; do add_mod "$m"; done
: >"$ir/lib/modules/load-order"
while read -r p; do
	name=$(basename "$p" | sed 's/\.ko.*//')
	case $p in
	*.xz) xz -dc "$moddir/$p" >"$ir/lib/modules/$name.ko" ;;
	*.zst) zstd -q -dc "$moddir/$p" >"$ir/lib/modules/$name.ko" ;;
	*.gz) gzip -dc "$moddir/$p" >"$ir/lib/modules/$name.ko" ;;
	*) cp "$moddir/$p" "$ir/lib/modules/$name.ko" ;;
	esac
	echo "$name" >>"$ir/lib/modules/load-order"
done <"$work/modorder"
echo "  modules: $(tr '\n' ' ' <"$ir/lib/modules/load-order")"
install -m 0755 guest/nested/l1-init "$ir/init"
(cd "$ir" && find . | sort | cpio -o -H newc --quiet) >"$cache/l1-initramfs.cpio"

step "cleaning up the build trees"
rm -rf "$work"
ls -ls "$cache"
date -u +%FT%TZ >"$cache/done"
# Image sets of other recipes (~1.3 GiB each) go a day after they were built;
# a run still using one that old is unlikely.
find /var/cache/pearvisor/nested -mindepth 1 -maxdepth 1 -type d \
	-name '????????????????' ! -name "$key" -mtime +0 -exec rm -rf {} + 2>/dev/null || true
step "done: $cache"
