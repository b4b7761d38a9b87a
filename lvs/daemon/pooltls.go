package daemon

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/geotraffic/geotraffic/internal/tlsfiles"
	"github.com/geotraffic/geotraffic/lvs/config"
	"github.com/geotraffic/geotraffic/lvs/pool"
)

// PoolTLS is how the https:// pool sources verify their servers.
type PoolTLS struct {
	CAs *x509.CertPool // pool-ca-file's; nil: the system roots
	// Fingerprint changes with the file named and its content, so a
	// reload notices a rotated CA.
	Fingerprint string
}

// loadPoolTLS reads pool-ca-file when a service verifies an https:// pool
// source, so that a bad path or PEM is a configuration error naming its
// line instead of fetches failing later.
func loadPoolTLS(cfg *config.Config) (PoolTLS, error) {
	g := cfg.Global
	if g.PoolCAFile == "" || !verifiesHTTPS(cfg) {
		return PoolTLS{}, nil
	}
	cas, b, err := tlsfiles.ReadCAs(g.PoolCAFile)
	if err != nil {
		return PoolTLS{}, g.PoolCAFilePos.Errorf("pool-ca-file", "%v", err)
	}
	sum := sha256.Sum256([]byte(fmt.Sprintf("%q %x", g.PoolCAFile, sha256.Sum256(b))))
	return PoolTLS{CAs: cas, Fingerprint: hex.EncodeToString(sum[:])}, nil
}

// poolFetchTimeout bounds one fetch of a polled pool source.
const poolFetchTimeout = 10 * time.Second

// poolCAChanged reports whether a reload changes how the service's
// https:// source is verified (pool-ca-file or its content): its watcher
// restarts with the new CAs, as the etcd services do with their client.
func poolCAChanged(s *service, sc *config.Service, l *Loaded) bool {
	return sc.PoolHTTPS() && s.cfg().PoolHTTPS() && !sc.PoolTLSInsecure && s.poolTLS.Fingerprint != l.PoolTLS.Fingerprint
}

func verifiesHTTPS(cfg *config.Config) bool {
	for _, s := range cfg.Services {
		if s.PoolHTTPS() && !s.PoolTLSInsecure {
			return true
		}
	}
	return false
}

// newPolledSource opens the service's file or HTTP pool source; an
// unverified https:// source is logged each time it starts.
func (s *service) newPolledSource() (pool.Source, error) {
	sc := s.cfg()
	if sc.PoolHTTPS() && sc.PoolTLSInsecure {
		s.log.Warn(fmt.Sprintf("[%s] pool-tls-insecure = yes: the TLS certificate of %s is not verified; "+
			"anyone on the path can serve this service's pool", sc.Name, sc.PoolURL))
	}
	return pool.NewSourceTLS(sc.PoolURL, poolFetchTimeout, pool.TLS{RootCAs: s.poolTLS.CAs, Insecure: sc.PoolTLSInsecure})
}
