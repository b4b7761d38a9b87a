package instrumentation

import (
	"net/http"
	"testing"
	"time"
)

// NewServer sets every timeout: the given ones, the defaults for the rest.
func TestNewServerTimeouts(t *testing.T) {
	tests := []struct {
		name                          string
		in                            Timeouts
		readHeader, read, write, idle time.Duration
	}{
		{"defaults", Timeouts{}, 10 * time.Second, 30 * time.Second, 30 * time.Second, 60 * time.Second},
		{"idle only", Timeouts{Idle: time.Second}, 10 * time.Second, 30 * time.Second, 30 * time.Second, time.Second},
		{"all given", Timeouts{ReadHeader: 1, Read: 2, Write: 3, Idle: 4}, 1, 2, 3, 4},
	}
	for _, tc := range tests {
		s := NewServer(http.NotFoundHandler(), tc.in)
		if s.ReadHeaderTimeout != tc.readHeader || s.ReadTimeout != tc.read || s.WriteTimeout != tc.write || s.IdleTimeout != tc.idle {
			t.Errorf("%s: read-header %v read %v write %v idle %v", tc.name, s.ReadHeaderTimeout, s.ReadTimeout, s.WriteTimeout, s.IdleTimeout)
		}
	}
}
