#!/usr/bin/env bash
# run.sh boots Debian's stock kernel under qemu (software emulation) with a
# small initramfs -- busybox, the ip_vs modules and a statically built
# test/kernel test binary -- and fails unless the binary reports PASS.
# Everything downloaded or built is cached under bin/kernel/.
#
# Environment: KERNEL_TEST_ARGS (extra go test flags, e.g. "-test.run Traffic"),
# KERNEL_TEST_TIMEOUT (seconds for the whole VM run, default 600),
# QEMU_SMP (virtual CPUs, default 1).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
cache=$root/bin/kernel
stage=$cache/initramfs
mkdir -p "$cache"

# Debian packages: qemu, busybox, kmod (depmod/modprobe), cpio.
scripts/apt-install qemu-system-x86_64 qemu-system-x86
# busybox-static specifically: the initramfs has no libc.
dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed' ||
	scripts/apt-install busybox-static.not-installed busybox-static
scripts/apt-install depmod kmod
scripts/apt-install cpio cpio

# The stock kernel, downloaded (not installed) once and unpacked.
deb=$(ls "$cache"/linux-image-*.deb 2>/dev/null | head -n1 || true)
if [ -z "$deb" ]; then
	pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-/{print $2; exit}' || true)
	if [ -z "$pkg" ]; then
		apt-get update -qq
		pkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-/{print $2; exit}')
	fi
	echo "kernel: downloading $pkg"
	# As root apt warns that it cannot drop privileges here; harmless.
	(cd "$cache" && apt-get download -q "$pkg" 2>&1 | grep -v '^W: Download is performed unsandboxed' || true)
	deb=$(ls "$cache"/linux-image-*.deb 2>/dev/null | head -n1 || true)
	if [ -z "$deb" ]; then
		echo "kernel: FAIL: could not download $pkg (apt-get download)" >&2
		exit 1
	fi
fi
kroot=$cache/root
if [ ! -d "$kroot/lib/modules" ]; then
	rm -rf "$kroot.tmp"
	dpkg-deb -x "$deb" "$kroot.tmp"
	# The .deb ships no modules.dep: generate it so modprobe can order deps.
	depmod -b "$kroot.tmp" "$(ls "$kroot.tmp/lib/modules")"
	mv "$kroot.tmp" "$kroot"
fi
kver=$(ls "$kroot/lib/modules")
vmlinuz=$kroot/boot/vmlinuz-$kver

# The test binary and lvsd, static so they need nothing from the initramfs.
CGO_ENABLED=0 go test -c -tags kernelvm -o "$cache/kernel.test" ./test/kernel
CGO_ENABLED=0 go build -o "$cache/lvsd" ./cmd/lvsd

# The initramfs.
rm -rf "$stage"
mkdir -p "$stage"/{bin,proc,sys,dev,tmp,lib/modules}
cp /bin/busybox "$stage/bin/busybox"
cp test/kernel/init "$stage/init"
cp "$cache/kernel.test" "$stage/kernel.test"
cp "$cache/lvsd" "$stage/lvsd"
printf '%s\n' "${KERNEL_TEST_ARGS:-}" > "$stage/args"
: > "$stage/modules.list"
# crc32c-intel needs SSE4.2; crc32c_generic is the fallback, so both go in.
# The initramfs has no modprobe for the kernel to autoload schedulers with,
# so all of lvsd's are loaded up front.
for m in ip_vs ip_vs_rr ip_vs_wrr ip_vs_lc ip_vs_wlc ip_vs_lblc ip_vs_lblcr ip_vs_dh ip_vs_sh ip_vs_sed ip_vs_nq ip_vs_mh veth; do
	modprobe -d "$kroot" -S "$kver" --show-depends "$m" | awk '$1 == "insmod" {print $2}'
done | awk '!seen[$0]++' | while read -r ko; do
	name=$(basename "$ko")
	cp "$ko" "$stage/lib/modules/$name"
	echo "/lib/modules/$name" >> "$stage/modules.list"
done
(cd "$stage" && find . | cpio -o -H newc --quiet | gzip -1) > "$cache/initramfs.gz"

# Boot. TCG because KVM is not usable here; the console is the serial port.
log=$cache/console.log
timeout_s=${KERNEL_TEST_TIMEOUT:-600}
echo "kernel: booting $kver under qemu (TCG), up to ${timeout_s}s; console in $log"
set +e
timeout --kill-after=10 "$timeout_s" qemu-system-x86_64 \
	-accel tcg -cpu max -m 512 -smp "${QEMU_SMP:-1}" \
	-nographic -no-reboot -nic none \
	-kernel "$vmlinuz" -initrd "$cache/initramfs.gz" \
	-append "console=ttyS0 panic=-1 loglevel=3 quiet" \
	</dev/null 2>&1 | tr -d '\r' | sed -u 's/\x1b\[[0-9;?]*[a-zA-Z]//g; s/\x1bc//g' | tee "$log"
status=${PIPESTATUS[0]}
set -e
if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
	echo "kernel: FAIL: the VM did not finish within ${timeout_s}s" >&2
	exit 1
fi
if grep -q '^GEOTRAFFIC-KERNEL-TEST: PASS$' "$log"; then
	echo "kernel: PASS"
	exit 0
fi
echo "kernel: FAIL (qemu exit $status); see $log" >&2
grep -E '^(--- FAIL|GEOTRAFFIC-KERNEL-TEST)' "$log" >&2 || true
exit 1
