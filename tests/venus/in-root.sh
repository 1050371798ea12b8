#!/bin/bash
# in-root.sh ROOT [--] CMD [ARG...]
# Runs CMD inside a chroot of a guest root (guest/build-gpu-root.sh) so that
# the root's unmodified Mesa Venus driver talks to our vtest server:
#   VN_DEBUG=vtest, VTEST_SOCKET_NAME=$VTEST_SOCKET_NAME (required; the
#   directory holding the socket is bind-mounted at the same path),
#   VK_DRIVER_FILES=<the root's virtio_icd.json>.
# Mounts (proc, /dev, tmpfs /tmp, the socket directory, and every directory
# in PV_IN_ROOT_BIND, colon-separated, read-only at the same path) live in a
# private mount namespace, so they vanish when CMD exits, however it exits.
# The environment inside is clean except for GGML_*, VN_*, MESA_*, VK_*,
# LP_* and PV_* variables, which pass through (VN_DEBUG is extended, not
# replaced, e.g. VN_DEBUG=init gives "vtest,init").
# PV_IN_ROOT_NATIVE=1 instead runs on the root's own lavapipe
# (VK_DRIVER_FILES=<lvp_icd.json>, no VN_DEBUG): the native baseline, or a
# server such as virgl_test_server (VTEST_SOCKET_NAME then only names the
# directory to share).
set -eu
if [ $# -lt 2 ]; then
	echo "usage: $0 ROOT [--] CMD [ARG...]" >&2
	exit 2
fi
root=$(realpath "$1")
shift
[ "$1" = "--" ] && shift
envs=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/tmp
      LANG=C.UTF-8)
if [ "${PV_IN_ROOT_NATIVE:-0}" = 1 ]; then
	icd=/usr/share/vulkan/icd.d/lvp_icd.json
	# A socket directory, if named, is still shared: a server run in the
	# root (virgl_test_server) listens there for clients in other roots.
	sockdir=
	[ -n "${VTEST_SOCKET_NAME:-}" ] && sockdir=$(dirname "$(realpath -m "$VTEST_SOCKET_NAME")")
	envs+=("VK_DRIVER_FILES=$icd")
else
	sock=${VTEST_SOCKET_NAME:?set VTEST_SOCKET_NAME to the server socket (host path)}
	sockdir=$(dirname "$(realpath -m "$sock")")
	icd=/usr/share/vulkan/icd.d/virtio_icd.json
	vn=${VN_DEBUG:-}
	vn=vtest${vn:+,$vn}
	envs+=("VN_DEBUG=$vn" "VTEST_SOCKET_NAME=$sock" "VK_DRIVER_FILES=$icd")
fi
[ -f "$root$icd" ] || { echo "in-root: $root has no $icd" >&2; exit 1; }
while IFS= read -r -d '' kv; do
	case $kv in
	VN_DEBUG=* | VTEST_SOCKET_NAME=* | VK_DRIVER_FILES=* | PV_IN_ROOT_*) ;;
	GGML_* | VN_* | MESA_* | VK_* | LP_* | PV_*) envs+=("$kv") ;;
	esac
done < <(env -0)

# The first entry (the socket directory, empty when native) stays
# writable; the rest are read-only.
binds=$sockdir:${PV_IN_ROOT_BIND:-}

# The mount script runs inside the new namespace; its arguments are the
# root, the bind list, then the command's env and argv separated by "--".
exec unshare --mount --propagation private -- /bin/bash -c '
set -eu
root=$1 binds=$2; shift 2
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
first=1
IFS=:
for d in $binds; do
	if [ -n "$d" ]; then
		mkdir -p "$root$d"
		mount --bind "$d" "$root$d"
		[ $first = 1 ] || mount -o remount,bind,ro "$root$d"
	fi
	first=0
done
unset IFS
exec chroot "$root" /usr/bin/env -i "$@"
' in-root "$root" "$binds" "${envs[@]}" "$@"
