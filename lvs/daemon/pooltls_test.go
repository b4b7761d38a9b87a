package daemon

import (
	"crypto/tls"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/geotraffic/geotraffic/internal/testtls"
	"github.com/geotraffic/geotraffic/internal/testutil"
	"github.com/prometheus/client_golang/prometheus"
)

// httpsPool serves a pool over TLS on loopback with a certificate of a CA
// of its own; it returns the pool URL and the CA's PEM file.
func httpsPool(t *testing.T, dir string) (url, caFile string) {
	t.Helper()
	ca := testtls.NewCA(t, "config-master.test")
	caFile = ca.WriteCA(t, dir, "pool-ca.pem")
	certFile, keyFile := ca.WriteServer(t, dir, "pool", net.ParseIP("127.0.0.1"))
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(line("127.0.0.2", 10, true)))
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are expected
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.URL + "/pool", caFile
}

const httpsConf = `[global]
GLOBAL
[web]
protocol = tcp
ip = 10.2.2.1
port = 80
scheduler = wrr
config = URL
pool-poll-interval = 0.02
SERVICE
`

// An https:// pool source is verified: against pool-ca-file, or the
// system roots (which do not know the pool server's CA: nothing is
// applied); pool-tls-insecure turns verification off, logged at start.
func TestHTTPSPoolVerification(t *testing.T) {
	tests := []struct {
		name, global, service string
		applied               bool
		log                   string
	}{
		{name: "pool-ca-file", global: "pool-ca-file = CA", applied: true},
		{name: "pool-tls-insecure", service: "pool-tls-insecure = yes", applied: true,
			log: "[web] pool-tls-insecure = yes: the TLS certificate of URL is not verified"},
		{name: "system roots", log: "Pool source URL failed, keeping the last good pool (0 servers): " +
			`Get \"URL\": tls: failed to verify certificate: x509: certificate signed by unknown authority`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			url, ca := httpsPool(t, dir)
			r := strings.NewReplacer("URL", url, "CA", ca)
			conf := strings.NewReplacer("GLOBAL", r.Replace(tc.global), "SERVICE", r.Replace(tc.service), "URL", url).Replace(httpsConf)
			var logBuf testutil.SyncBuffer
			h := startDaemonLog(t, conf, slog.New(slog.NewTextHandler(&logBuf, nil)))
			if tc.log != "" {
				testutil.WaitFor(t, "log "+tc.log, func() bool { return strings.Contains(logBuf.String(), r.Replace(tc.log)) })
			}
			if tc.applied {
				testutil.WaitFor(t, "the pool applied", func() bool { return h.dir2.dests("-t 10.2.2.1:80") == "127.0.0.2:80/10" })
			} else if got := h.dir2.dests("-t 10.2.2.1:80"); got != "" {
				t.Errorf("an unverified pool was applied: %q", got)
			}
		})
	}
}

// A reload that sets pool-ca-file applies it at once: the https:// service
// restarts its pool watcher, which now verifies the server.
func TestHTTPSPoolCAReload(t *testing.T) {
	dir := t.TempDir()
	url, ca := httpsPool(t, dir)
	conf := strings.NewReplacer("GLOBAL", "", "SERVICE", "", "URL", url).Replace(httpsConf)
	var logBuf testutil.SyncBuffer
	h := startDaemonLog(t, conf, slog.New(slog.NewTextHandler(&logBuf, nil)))
	testutil.WaitFor(t, "the fetch failing", func() bool { return strings.Contains(logBuf.String(), "certificate signed by unknown authority") })
	testutil.WriteAtomic(t, h.conf, strings.Replace(conf, "[global]\n", "[global]\npool-ca-file = "+ca+"\n", 1))
	if err := h.d.Reload(); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, "the pool applied", func() bool { return h.dir2.dests("-t 10.2.2.1:80") == "127.0.0.2:80/10" })
	for _, want := range []string{"[global] pool-ca-file changed: applied now",
		"[web] Configuration changed ([global] pool-ca-file), restarting its pool watcher"} {
		if !strings.Contains(logBuf.String(), want) {
			t.Errorf("log lacks %q", want)
		}
	}
}

// A pool-ca-file that cannot be read, or holds no certificate, is a
// configuration error with its line, found before anything starts.
func TestPoolCAFileErrors(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	testutil.WriteAtomic(t, notPEM, "hello\n")
	for _, tc := range []struct{ file, want string }{
		{filepath.Join(dir, "missing.pem"), "pybal.conf:2: pool-ca-file: open " + filepath.Join(dir, "missing.pem") + ": no such file"},
		{notPEM, "pybal.conf:2: pool-ca-file: " + notPEM + ": no PEM certificate in it"},
	} {
		conf := filepath.Join(dir, "pybal.conf")
		testutil.WriteAtomic(t, conf, strings.NewReplacer("GLOBAL", "pool-ca-file = "+tc.file, "SERVICE", "", "URL", "https://127.0.0.1:1/pool").Replace(httpsConf))
		_, err := New(Options{ConfigPath: conf, Director: &fakeDirector{}, Registry: prometheus.NewRegistry()})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.file, err, tc.want)
		}
	}
}
