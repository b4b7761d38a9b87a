package etcdstore

import (
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	grpcbackoff "google.golang.org/grpc/backoff"

	"github.com/geotraffic/geotraffic/internal/tlsfiles"
)

// ClientConfig is how every tool and daemon reaches etcd.
type ClientConfig struct {
	Endpoints []string // "http://host:port", "https://host:port" or "host:port"
	CACert    string   // PEM file of the CA that signed etcd's certificate
	Cert, Key string   // client certificate and key, for etcd with client certificates
	User      string   // etcd RBAC user; Password goes with it
	Password  string
	// DialTimeout bounds the first connection; 0 means 5 s.
	DialTimeout time.Duration
}

// Client opens a client. Without a user it does not wait for etcd; with one
// it logs in at once and fails while etcd is down: daemons use Connect.
func (c ClientConfig) Client() (*clientv3.Client, error) {
	if len(c.Endpoints) == 0 {
		return nil, errors.New("etcd: no endpoints")
	}
	cfg := clientv3.Config{
		Endpoints:   c.Endpoints,
		DialTimeout: c.DialTimeout,
		Username:    c.User,
		Password:    c.Password,
		// The client's own logger would print every retry; Watcher logs
		// each change of reachability once instead.
		Logger: zap.NewNop(),
		// gRPC's default reconnect backoff grows to 2 minutes: after an
		// etcd outage every daemon would lag that long behind. A 2 s
		// ceiling catches up quickly and is still cheap against a dead etcd.
		DialOptions: []grpc.DialOption{grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           grpcbackoff.Config{BaseDelay: 100 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: 2 * time.Second},
			MinConnectTimeout: 2 * time.Second,
		})},
	}
	if cfg.DialTimeout == 0 {
		cfg.DialTimeout = 5 * time.Second
	}
	if c.User == "" && c.Password != "" {
		return nil, errors.New("etcd: a password without a user")
	}
	tlsCfg, err := c.tls()
	if err != nil {
		return nil, err
	}
	cfg.TLS = tlsCfg
	cli, err := clientv3.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("etcd %s: %w", strings.Join(c.Endpoints, ","), err)
	}
	return cli, nil
}

// tls is nil for plain http endpoints without certificates.
func (c ClientConfig) tls() (*tls.Config, error) {
	https := false
	for _, e := range c.Endpoints {
		https = https || strings.HasPrefix(e, "https://")
	}
	if !https && c.CACert == "" && c.Cert == "" {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.CACert != "" {
		pool, _, err := tlsfiles.ReadCAs(c.CACert)
		if err != nil {
			return nil, fmt.Errorf("etcd CA: %w", err)
		}
		cfg.RootCAs = pool
	}
	pair, err := tlsfiles.KeyPair(c.Cert, c.Key)
	if err != nil {
		return nil, fmt.Errorf("etcd client certificate: %w", err)
	}
	if pair != nil {
		cfg.Certificates = []tls.Certificate{*pair}
	}
	return cfg, nil
}
