#!/bin/sh
# pack.sh: build the carry bundle for bench/h100/run.sh (see docs/PERFORMANCE.md).
#
#   bench/h100/pack.sh [--root SID_ROOT] [--trixie-root ROOT|none] [--dest DIR] [--lavapipe]
#
# Takes a Debian sid guest root (default: the newest
# /var/cache/pearvisor/roots/sid-*), overlays a scratch upper layer on it
# (the cached root is never written), adds what the H100 machine lacks
# (libXext for NVIDIA's libGLX_nvidia), and copies into a staging tree only
# the programs the benchmark runs plus every library the dynamic loader
# resolves for them. DEST (default /work/main/.carry) then holds:
#   sid-bench.tar.xz   minimal sid userspace (llama-bench, test-backend-ops,
#                      ggml Vulkan+CPU, Mesa Venus ICD, sid Vulkan loader,
#                      glvnd, virgl_test_server, vkmark, vulkaninfo)
#   model.gguf.xz      synthetic 1.1B Q4_0 llama model (make-model.py)
#   model-7b.gguf.xz   the same in Llama 2 7B's shape
#   pv/                pearvisor (gpu-server) and vn-micro, built here in
#                      this worktree
#   trixie-bench.tar.xz  the same for vkmark from a Debian trixie root
#                      (Mesa 25's Venus: the stock Debian 13 guest), when a
#                      trixie root is cached (--trixie-root, or the newest
#                      /var/cache/pearvisor/roots/trixie-*): run.sh's
#                      *_trixie modes
#   run.sh             bench/h100/run.sh
# --lavapipe also writes /var/tmp/pv-bench-lavapipe.tar.xz (Mesa's lavapipe
# and its LLVM) for `run.sh --lavapipe` here; it never travels.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
root=
troot=
dest=/work/main/.carry
want_lvp=0
while [ $# -gt 0 ]; do
	case $1 in
	--root) root=$2; shift 2 ;;
	--trixie-root) troot=$2; shift 2 ;;
	--dest) dest=$2; shift 2 ;;
	--lavapipe) want_lvp=1; shift ;;
	*) echo "usage: pack.sh [--root SID_ROOT] [--trixie-root ROOT|none] [--dest DIR] [--lavapipe]" >&2; exit 2 ;;
	esac
done
if [ -z "$root" ]; then
	root=$(ls -dt /var/cache/pearvisor/roots/sid-* 2>/dev/null | grep -v '\.tmp' | head -1 || true)
fi
[ -n "$root" ] && [ -x "$root/usr/bin/llama-bench" ] || {
	echo "pack.sh: no sid root with llama.cpp-tools (give --root)" >&2; exit 1; }
echo "pack: root $root"

if [ -z "$troot" ]; then
	troot=$(ls -dt /var/cache/pearvisor/roots/trixie-* 2>/dev/null | grep -v '\.tmp' | head -1 || true)
fi
[ "$troot" = none ] && troot=

scratch=/var/tmp/pv-bench-pack
cleanup() {
	for o in "$scratch"/ov-*; do
		for m in "$o/merged/proc" "$o/merged/dev" "$o/merged"; do
			mountpoint -q "$m" && umount "$m"
		done
	done
	return 0
}
trap cleanup EXIT
cleanup
rm -rf "$scratch"
mkdir -p "$dest"

# overlay NAME ROOT: a scratch upper layer on ROOT (the cached root is
# never written), mounted with /dev and /proc at $scratch/ov-NAME/merged.
overlay() {
	local o=$scratch/ov-$1
	mkdir -p "$o/upper" "$o/work" "$o/merged"
	mount -t overlay overlay -o "lowerdir=$2,upperdir=$o/upper,workdir=$o/work" "$o/merged"
	mount --bind /dev "$o/merged/dev"
	mount -t proc proc "$o/merged/proc"
}

# ensure_pkgs ROOT PKG...: installs into the overlay what it lacks.
ensure_pkgs() {
	local r=$1 need="" p
	shift
	for p in "$@"; do
		chroot "$r" dpkg -s "$p" >/dev/null 2>&1 || need="$need $p"
	done
	[ -n "$need" ] || return 0
	echo "pack: installing into the overlay:$need"
	cp /etc/resolv.conf "$r/etc/resolv.conf" 2>/dev/null || true
	chroot "$r" sh -c "apt-get -o Acquire::Check-Valid-Until=false update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get -o Acquire::Check-Valid-Until=false install -y -q --no-install-recommends $need" >"$scratch/apt.log" 2>&1 ||
		{ tail -20 "$scratch/apt.log"; exit 1; }
}

# stage ROOT "ENTRIES" "DATA" TARBALL: copies from ROOT the entry points
# (programs, dlopen()ed modules), every library the dynamic loader resolves
# for them, and the data paths, keeping symlinks and their targets and the
# merged-/usr layout, into an xz tarball.
stage() {
	local r=$1 entries=$2 data=$3 out=$4 st=$scratch/stage list=$scratch/files e d f real l
	rm -rf "$st"
	mkdir -p "$st"
	: >"$list"
	for e in $entries; do
		[ -e "$r$e" ] || { echo "pack: warning: $e not in $r" >&2; continue; }
		echo "$e" >>"$list"
		case $e in /sbin/ldconfig) continue ;; esac
		chroot "$r" /usr/lib64/ld-linux-x86-64.so.2 --list "$e" 2>/dev/null |
			sed -n 's/.*=> \(\/[^ ]*\) (0x.*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) (0x.*/\1/p' >>"$list" || {
			echo "pack: ld.so --list failed for $e" >&2; exit 1; }
	done
	for d in $data; do [ -e "$r$d" ] && echo "$d" >>"$list"; done
	sort -u "$list" | while read -r f; do
		echo "${f#/}"
		real=$(chroot "$r" readlink -f "$f")
		[ "$real" != "$f" ] && echo "${real#/}"
	done | sort -u >"$list.all"
	tar -C "$r" -cf - -T "$list.all" | tar -C "$st" -xf -
	mkdir -p "$st/dev" "$st/proc" "$st/tmp" "$st/usr/local/nvidia" "$st/pv" "$st/out"
	for l in lib lib64 bin sbin; do
		[ -L "$r/$l" ] && cp -a "$r/$l" "$st/$l"
	done
	mkdir -p "$st/usr/lib64"
	cp -a "$r/usr/lib64/ld-linux-x86-64.so.2" "$st/usr/lib64/"
	tar -C "$st" -cf - . | xz -T2 -6 >"$out"
}

overlay sid "$root"
m=$scratch/ov-sid/merged
# NVIDIA's Vulkan ICD (libGLX_nvidia.so.0) needs libXext; python3-gguf and
# vkmark may be missing from older roots.
ensure_pkgs "$m" libggml0-backend-vulkan libxext6 python3-gguf vkmark vulkan-tools

# The model: generated in the root (python3-gguf), checked to load below.
# 1.1b is model.gguf; other shapes (PV_PACK_MODELS, default "1.1b 7b") are
# model-SHAPE.gguf. All-zero weights: the 7b one is 3.6 GiB, 0.6 MB as xz.
for shape in ${PV_PACK_MODELS:-1.1b 7b}; do
	name=model.gguf
	[ "$shape" != 1.1b ] && name=model-$shape.gguf
	if [ ! -s "$dest/$name.xz" ] || [ "$here/make-model.py" -nt "$dest/$name.xz" ]; then
		echo "pack: generating the synthetic $shape model"
		cp "$here/make-model.py" "$m/tmp/make-model.py"
		chroot "$m" python3 /tmp/make-model.py "/tmp/$name" "$shape"
		xz -T2 -6 -c "$m/tmp/$name" >"$dest/$name.xz.tmp"
		mv "$dest/$name.xz.tmp" "$dest/$name.xz"
		rm -f "$m/tmp/$name"
	fi
done

# Entry points: programs and dlopen()ed modules the loader never lists.
libdir=/usr/lib/x86_64-linux-gnu
tbo=$(cd "$m" && ls usr/libexec/x86_64-linux-gnu/llama.cpp-tests/test-backend-ops 2>/dev/null || find usr -name test-backend-ops -type f | head -1)
[ -n "$tbo" ] || { echo "pack: test-backend-ops not found in the root" >&2; exit 1; }
entries="/usr/bin/llama-bench /$tbo /usr/bin/virgl_test_server /usr/libexec/virgl_render_server /usr/bin/vulkaninfo /usr/bin/vkmark
	$libdir/libvulkan_virtio.so $libdir/libvulkan.so.1 $libdir/libXext.so.6
	$libdir/libEGL.so.1 $libdir/libGL.so.1 $libdir/libOpenGL.so.0 $libdir/libGLESv2.so.2
	$libdir/libGLX.so.0 $libdir/libGLdispatch.so.0 /sbin/ldconfig
	$libdir/libdl.so.2 $libdir/libpthread.so.0 $libdir/librt.so.1 $libdir/libresolv.so.2
	$libdir/libutil.so.1 $libdir/libanl.so.1 $libdir/libX11.so.6 $libdir/libX11-xcb.so.1"
# (glibc's compat stubs above: NVIDIA's driver links libdl.so.2 and friends,
# which nothing in sid itself names any more.)
entries="$entries $(cd "$m" && find usr/lib -path '*ggml*' -name '*.so*' | sed 's|^|/|')"
entries="$entries $(cd "$m" && find usr/lib/x86_64-linux-gnu/vkmark -name '*.so' 2>/dev/null | sed 's|^|/|')"
data="/usr/share/vulkan/icd.d/virtio_icd.json /etc/ld.so.conf /etc/ld.so.conf.d /usr/share/vkmark
	/usr/share/glvnd /etc/passwd /etc/group"

stage "$m" "$entries" "$data" "$dest/sid-bench.tar.xz"

# vkmark as the stock Debian 13 guest runs it: trixie's vkmark on Mesa 25's
# Venus (which signals fences through feedback buffers, where Mesa 26 makes
# each one a vtest sync round trip), and natively the same binary.
rm -f "$dest/trixie-bench.tar.xz"
if [ -n "$troot" ]; then
	echo "pack: trixie root $troot"
	overlay trixie "$troot"
	t=$scratch/ov-trixie/merged
	# (glvnd: NVIDIA's ICD is its GLX library and links libGLdispatch.)
	ensure_pkgs "$t" libxext6 libegl1 libgl1 vkmark vulkan-tools
	tentries="/usr/bin/vkmark /usr/bin/vulkaninfo $libdir/libvulkan_virtio.so $libdir/libvulkan.so.1
		$libdir/libXext.so.6 $libdir/libEGL.so.1 $libdir/libGL.so.1 $libdir/libGLX.so.0
		$libdir/libGLdispatch.so.0 /sbin/ldconfig $libdir/libdl.so.2 $libdir/libpthread.so.0
		$libdir/librt.so.1 $libdir/libX11.so.6 $libdir/libX11-xcb.so.1
		$(cd "$t" && find usr/lib/x86_64-linux-gnu/vkmark -name '*.so' 2>/dev/null | sed 's|^|/|')"
	stage "$t" "$tentries" "$data" "$dest/trixie-bench.tar.xz"
fi

# Our programs, built in this worktree.
make -C "$repo" -j2 build/x86_64/pearvisor build/x86_64/vn-micro \
	build/x86_64/headless-wsi/libpv_headless_wsi.so >/dev/null ||
	{ echo "pack: build failed"; exit 1; }
rm -rf "$dest/pv"
mkdir -p "$dest/pv"
cp "$repo/build/x86_64/pearvisor" "$repo/build/x86_64/vn-micro" "$dest/pv/"
strip "$dest/pv/"* 2>/dev/null || true
# The headless-WSI layer: native vkmark on drivers without
# VK_EXT_headless_surface (NVIDIA's); run.sh enables it for native modes.
cp -r "$repo/build/x86_64/headless-wsi" "$dest/pv/headless-wsi"
strip "$dest/pv/headless-wsi/libpv_headless_wsi.so" 2>/dev/null || true
# Libraries our programs take from this (bookworm) host that the sid root
# lacks; run.sh puts /pv/lib last on the server's library path.
mkdir -p "$dest/pv/lib"
for b in "$dest"/pv/pearvisor "$dest"/pv/vn-micro; do
	[ -e "$b" ] && ldd "$b" | awk '$3 ~ /^\// { print $1, $3 }'
done | sort -u | while read -r name path; do
	case $name in libc.so*|libm.so*|libvulkan.so*|ld-linux*) continue ;; esac
	cp -L "$path" "$dest/pv/lib/$name"
done
cp "$here/run.sh" "$dest/run.sh"
git -C "$repo" rev-parse --short HEAD >"$dest/pv/commit"

if [ "$want_lvp" = 1 ]; then
	lvp=$(cd "$m" && ls usr/lib/x86_64-linux-gnu/libvulkan_lvp.so)
	{
		echo "$lvp"
		echo usr/share/vulkan/icd.d/lvp_icd.json
		chroot "$m" /usr/lib64/ld-linux-x86-64.so.2 --list "/$lvp" |
			sed -n 's/.*=> \/\([^ ]*\) (0x.*/\1/p'
	} | sort -u >"$scratch/lvp.list"
	tar -C "$m" -chf - -T "$scratch/lvp.list" | xz -T2 -3 >/var/tmp/pv-bench-lavapipe.tar.xz
	echo "pack: lavapipe extra in /var/tmp/pv-bench-lavapipe.tar.xz"
fi
du -ab "$dest" | sort -n | tail -8
echo "pack: done: $(du -sh "$dest" | cut -f1) in $dest"
