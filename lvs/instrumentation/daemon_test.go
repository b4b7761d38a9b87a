package instrumentation_test

import (
	"github.com/geotraffic/geotraffic/lvs/daemon"
	"github.com/geotraffic/geotraffic/lvs/instrumentation"
)

// The daemon reports its pool sources' problems (etcd unreachable, values
// ignored, no nodes yet), which /alerts names.
var _ instrumentation.SourceState = (*daemon.Daemon)(nil)
