//go:build kernelvm

package kernel

import (
	"testing"

	"github.com/geotraffic/geotraffic/lvs/ipvs"
)

func TestSmoke(t *testing.T) {
	d, err := ipvs.NewKernel(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	st, err := d.Status(t.Context())
	t.Log(st, err)
}
