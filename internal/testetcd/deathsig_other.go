//go:build !linux

package testetcd

import "os/exec"

// setDeathSignal does nothing where there is no parent-death signal: an etcd
// whose test binary dies without cleanups is left running there.
func setDeathSignal(cmd *exec.Cmd) {}
