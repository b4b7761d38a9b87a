# lvs/ipvs against a real kernel: boots Debian's stock kernel under qemu
# (TCG) with an initramfs holding busybox, the ip_vs modules and the
# test/kernel test binary. Installs its Debian packages itself; caches the
# kernel and the initramfs under bin/kernel/.
.PHONY: test-kernel
test-kernel:
	$(GO) vet -tags kernelvm ./test/kernel/
	test/kernel/run.sh
