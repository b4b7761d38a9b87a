//go:build kernelvm

package kernel

import "github.com/cloudflare/ipvs/netmask"

var hostMask4 = netmask.MaskFrom(32, 32)
