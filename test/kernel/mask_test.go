//go:build kernelvm

package kernele2e

import "github.com/cloudflare/ipvs/netmask"

var hostMask4 = netmask.MaskFrom(32, 32)
