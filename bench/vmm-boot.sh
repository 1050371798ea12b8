#!/bin/sh
# bench/vmm-boot.sh [--runs N] [--no-doc] [--report-only]
#
# L2 boot time to userspace and VMM memory (RSS without guest RAM), pearvisor
# vs qemu-system-aarch64 -M virt,gic-version=3 -enable-kvm -cpu host, both
# inside the same nested-KVM L1 (docs/testing-nested.md), same kernel, stock
# initrd and disk (read-only), 2 vCPUs, 512 MiB. Method: bench/vmm-boot-l1.sh.
# Prints per-VMM medians and the pearvisor/qemu ratios, and rewrites the
# "VMM boot" section of docs/PERFORMANCE.md (unless --no-doc).
# --report-only redoes the tables and the doc from the last run's results.
# Numbers are from nested virtualization under TCG: compare VMMs with each
# other, not with bare-metal boot times.
set -eu
cd "$(dirname "$0")/.."
runs=3 doc=1 report_only=0
while [ $# -gt 0 ]; do
	case $1 in
	--runs) runs=$2; shift 2 ;;
	--no-doc) doc=0; shift ;;
	--report-only) report_only=1; shift ;;
	*) echo "usage: bench/vmm-boot.sh [--runs N] [--no-doc] [--report-only]" >&2; exit 2 ;;
	esac
done
out=build/nested
mkdir -p "$out"
if [ $report_only = 0 ]; then
	sh guest/build-arm64-images.sh
	img=$(sh guest/build-arm64-images.sh --print-dir)

	vmms="qemu"
	note=
	if make -j2 ARCH=aarch64 >"$out/build-aarch64.log" 2>&1 &&
		! qemu-aarch64-static build/aarch64/pearvisor run --kernel /nonexistent/vmlinuz 2>&1 |
			grep -q 'not implemented'; then
		vmms="pearvisor qemu"
	else
		note="pearvisor could not run guests in this tree (build failed or 'run' not implemented): qemu only."
		echo "vmm-boot: $note" >&2
	fi

	rm -rf "$out/bench-payload"
	mkdir -p "$out/bench-payload"
	printf 'PV_BENCH_VMMS="%s"\nPV_BENCH_RUNS=%s\n' "$vmms" "$runs" >"$out/bench-payload/config"
	cp tests/nested/l1-lib.sh "$out/bench-payload/"
	case $vmms in *pearvisor*) cp build/aarch64/pearvisor "$out/bench-payload/" ;; esac
	disk=$out/l2-bench.img
	cp --sparse=always "$img/l2-root.img" "$disk"
	load_before=$(cut -d' ' -f1-3 /proc/loadavg)
	# A run cut short still reports the boots it finished.
	run_rc=0
	sh tests/nested/run-l1.sh --l2-disk "$disk" --log "$out/l1-bench.log" --timeout 3000 \
		bench/vmm-boot-l1.sh "$out/bench-payload"/* >"$out/bench-results.txt" || run_rc=$?
	rm -f "$disk"
	load_after=$(cut -d' ' -f1-3 /proc/loadavg)
	grep -E '^BENCH' "$out/bench-results.txt" || true
	if grep -q '^BENCHFAIL' "$out/bench-results.txt"; then
		grep '^BENCHFAIL' "$out/bench-results.txt" >&2
		echo "vmm-boot: some boots failed (see $out/l1-bench.log)" >&2
	fi
	printf 'vmms="%s"\nruns=%s\nnote="%s"\nload_before="%s"\nload_after="%s"\nrun_rc=%s\nkver=%s\n' \
		"$vmms" "$runs" "$note" "$load_before" "$load_after" "$run_rc" "$(cat "$img/kernel-version")" >"$out/bench-meta"
fi
. "$out/bench-meta"
grep -E '^BENCH ' "$out/bench-results.txt" >"$out/bench-runs.txt" || true

# median VMM FIELD / fastest VMM FIELD
median() {
	grep "^BENCH vmm=$1 " "$out/bench-results.txt" | tr ' ' '\n' | sed -n "s/^$2=//p" |
		sort -n | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
fastest() {
	grep "^BENCH vmm=$1 " "$out/bench-results.txt" | tr ' ' '\n' | sed -n "s/^$2=//p" | sort -n | head -n 1
}
table=$out/bench-table.md
{
	echo "| VMM | boots | wall to userspace, fastest / median (s) | L2 uptime at userspace, fastest / median (s) | VMM RSS without guest RAM (KiB) | guest RAM resident (KiB) | VmHWM (KiB) |"
	echo "|---|---|---|---|---|---|---|"
	for v in $vmms; do
		n=$(grep -c "^BENCH vmm=$v " "$out/bench-results.txt" || true)
		echo "| $v | $n | $(fastest $v wall_to_userspace_s) / $(median $v wall_to_userspace_s) | $(fastest $v l2_uptime_s) / $(median $v l2_uptime_s) | $(median $v vmm_rss_kb) | $(median $v guest_rss_kb) | $(median $v vm_hwm_kb) |"
	done
} >"$table"
ratios=
case $vmms in *pearvisor*)
	for f in wall_to_userspace_s l2_uptime_s; do
		a=$(fastest pearvisor $f) b=$(fastest qemu $f)
		if [ -n "$a" ] && [ -n "$b" ]; then
			ratios="$ratios
- pearvisor/qemu $f (fastest boots): $(awk "BEGIN { printf \"%.2f\", $a / $b }")"
		fi
	done
	a=$(median pearvisor vmm_rss_kb) b=$(median qemu vmm_rss_kb)
	if [ -n "$a" ] && [ -n "$b" ]; then
		ratios="$ratios
- pearvisor/qemu vmm_rss_kb (median): $(awk "BEGIN { printf \"%.3f\", $a / $b }")"
	fi ;;
esac
cat "$table"
[ -n "$ratios" ] && echo "$ratios"

[ $doc = 1 ] || exit 0
section=$out/bench-section.md
{
	echo "## VMM boot"
	echo
	echo "Measured $(date -u +%F) with \`sh bench/vmm-boot.sh --runs $runs\` ($runs boots per VMM asked),"
	echo "on the 2-core build host: L1 = \`qemu-system-aarch64 -M virt,virtualization=on,gic-version=3"
	echo "-cpu max,pauth-impdef=on -smp 2 -m 3072\` (TCG) running Linux $kver with KVM; the L2 guest is"
	echo "the same kernel with Debian's stock initrd and the ext4 root disk (read-only), 2 vCPUs, 512 MiB,"
	echo "\`init=/sbin/pv-test-init\`. In L1:"
	echo
	echo "- pearvisor: \`pearvisor run --kernel vmlinuz --initrd initrd.img --console stdio --cpus 2 --memory 512M --disk /dev/vdX,readonly --append ...\`"
	echo "- qemu: \`qemu-system-aarch64 -M virt,gic-version=3 -enable-kvm -cpu host -no-reboot -display none -monitor none -serial stdio -nic none -kernel vmlinuz -initrd initrd.img -smp 2 -m 512M -drive if=none,file=/dev/vdX,format=raw,id=disk1,readonly=on -device virtio-blk-device,drive=disk1 -append ...\`"
	echo
	echo "Wall to userspace: from starting the VMM until \`PV-L2-USERSPACE\` is on the guest console"
	echo "(polled every 0.2 s). L2 uptime: the guest's /proc/uptime in that line. VMM RSS without guest"
	echo "RAM: /proc/PID/smaps of the VMM at that moment, the Rss of every mapping smaller than the"
	echo "guest's RAM (mappings at least that large are guest memory, reported apart)."
	echo "Everything runs under nested virtualization on TCG, so absolute times are far slower than on"
	echo "hardware, and they swing several-fold with the load on the shared 2-core host (load average"
	echo "before/after this run: $load_before / $load_after): runs alternate between the VMMs, and the"
	echo "fastest boot of each is the best estimate of its uncontended time; the ratios use those."
	echo "The memory figures do not depend on load. QEMU keeps its own copies of the kernel and initrd"
	echo "(~70 MiB here) to reload them on a reset, which is likely most of its non-guest RSS."
	echo
	[ -n "$note" ] && { echo "$note"; echo; }
	[ "$run_rc" = 0 ] || { echo "The L1 session ended with status $run_rc (124: timeout): fewer boots than asked."; echo; }
	cat "$table"
	[ -n "$ratios" ] && { echo; echo "$ratios" | sed '/^$/d'; }
	echo
	echo "Every boot, in the order run:"
	echo
	echo '```'
	sed 's/^BENCH //' "$out/bench-runs.txt"
	echo '```'
	echo
} >"$section"
doc_file=docs/PERFORMANCE.md
mkdir -p docs
[ -f "$doc_file" ] || printf '# Performance\n\nBenchmarks live in bench/; each section says how it was measured.\n\n' >"$doc_file"
# Replace the "## VMM boot" section (up to the next "## ") or append it.
awk -v sec="$section" '
	/^## VMM boot$/ { while ((getline l < sec) > 0) print l; skipping = 1; done = 1; next }
	skipping && /^## / { skipping = 0 }
	!skipping { print }
	END { if (!done) while ((getline l < sec) > 0) print l }' "$doc_file" >"$doc_file.new"
mv "$doc_file.new" "$doc_file"
echo "vmm-boot: wrote the VMM boot section of $doc_file"
