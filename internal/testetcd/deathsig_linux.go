package testetcd

import (
	"os/exec"
	"syscall"
)

// setDeathSignal has the kernel kill etcd if the test binary dies without
// running its cleanups (go test's -timeout panic, a SIGKILL), so no etcd
// outlives its test holding ports and a temporary directory. The signal
// follows the OS thread that started etcd; Go keeps that thread unless a
// goroutine exits while locked to it, which these tests do not do.
func setDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
