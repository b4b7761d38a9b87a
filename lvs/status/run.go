package status

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/geotraffic/geotraffic/lvs/config"
	"github.com/geotraffic/geotraffic/lvs/instrumentation"
	"github.com/geotraffic/geotraffic/lvs/ipvs"
)

// Kernel reads IPVS directly; ipvs.NewKernel's Director is one.
type Kernel interface {
	Status(ctx context.Context) ([]ipvs.ServiceStatus, error)
	Close() error
}

// Options configure Run.
type Options struct {
	Config *config.Config
	// URL is the running lvsd's instrumentation API; "" takes it from
	// the configuration.
	URL string
	// OpenKernel opens IPVS for reading when the daemon cannot give its
	// view (instrumentation off, or no answer).
	OpenKernel func() (Kernel, error)
}

// BaseURL is the instrumentation API address of a configuration: its first
// instrumentation_ips address and instrumentation_port; ok is false when
// instrumentation is off (PyBal's default).
func BaseURL(cfg *config.Config) (url string, ok bool) {
	g := cfg.Global
	if !g.Instrumentation || len(g.InstrumentationIPs) == 0 {
		return "", false
	}
	return "http://" + net.JoinHostPort(g.InstrumentationIPs[0].String(), strconv.Itoa(int(g.InstrumentationPort))), true
}

// Run writes lvsd status to w: the daemon's view (pool states and its IPVS
// table) when it answers, otherwise the kernel's IPVS table with a note
// that the daemon's view is unavailable and pool states are unknown.
func Run(ctx context.Context, w io.Writer, o Options) error {
	base, reason := o.URL, ""
	if base == "" {
		var ok bool
		if base, ok = BaseURL(o.Config); !ok {
			reason = o.Config.File + " has instrumentation off (enable it, or pass --url to ask a running lvsd)"
		}
	}
	var (
		pools  []Pool
		kernel []ipvs.ServiceStatus
	)
	if base != "" {
		var err error
		if pools, kernel, err = Collect(ctx, base, o.Config); err != nil {
			reason = fmt.Sprintf("lvsd at %s did not answer: %v", base, err)
		}
	}
	if reason != "" {
		if pools == nil {
			pools = Configured(o.Config)
		}
		for i := range pools {
			// One note below says why; per-service errors would repeat it.
			if pools[i].Servers == nil {
				pools[i].Err, pools[i].NoState = nil, true
			}
		}
		k, err := o.OpenKernel()
		if err != nil {
			return fmt.Errorf("the daemon's view is unavailable: %s; and reading IPVS directly failed: %w", reason, err)
		}
		defer k.Close()
		if kernel, err = k.Status(ctx); err != nil {
			return fmt.Errorf("the daemon's view is unavailable: %s; and reading IPVS directly failed: %w", reason, err)
		}
		if _, err := fmt.Fprintf(w, "# The daemon's view is unavailable: %s.\n# IPVS was read from the kernel; servers' enabled/up/pooled states are unknown.\n", reason); err != nil {
			return err
		}
	}
	if err := Render(w, pools, kernel); err != nil {
		return err
	}
	if reason == "" {
		// The drift repairs since lvsd started: someone used ipvsadm.
		var js instrumentation.DriftJSON
		if err := getJSON(ctx, &http.Client{Timeout: 10 * time.Second}, base+"/ipvs/drift", &js); err == nil {
			if t := instrumentation.DriftText(js); t != "" {
				_, err := io.WriteString(w, "\n"+t)
				return err
			}
		}
	}
	return nil
}
