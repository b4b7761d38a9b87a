package instrumentation_test

import (
	"github.com/geotraffic/geotraffic/lvs/daemon"
	"github.com/geotraffic/geotraffic/lvs/instrumentation"
)

// The daemon gives the API its configuration, which /alerts needs to name
// services whose pool source is not supported yet.
var _ instrumentation.ConfigState = (*daemon.Daemon)(nil)
