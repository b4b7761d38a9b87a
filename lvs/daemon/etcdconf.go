package daemon

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"os"
	"strings"

	"github.com/geotraffic/geotraffic/conftool/etcdstore"
	"github.com/geotraffic/geotraffic/internal/tlsfiles"
	"github.com/geotraffic/geotraffic/lvs/config"
)

// PasswordEnv holds the etcd password when [global] names no
// etcd-password-file (a file is preferred: the environment of a process
// is readable in more places).
const PasswordEnv = "LVSD_ETCD_PASSWORD"

// EtcdClient is the client configuration of the etcd pools, from [global]:
// everything but the endpoints, which each service's URL gives.
type EtcdClient struct {
	Config etcdstore.ClientConfig
	// Fingerprint changes with any setting and with the content of any
	// file named, so a reload notices a rotated certificate or password.
	Fingerprint string
}

// For is the configuration of the client of one etcd URL: TLS material
// goes to etcds:// only (etcd:// is plain HTTP).
func (e EtcdClient) For(endpoints []string, useTLS bool) etcdstore.ClientConfig {
	c := e.Config
	c.Endpoints = endpoints
	if !useTLS {
		c.CACert, c.Cert, c.Key = "", "", ""
	}
	return c
}

// loadEtcdClient reads [global]'s etcd keys: the password from its file
// (else from PasswordEnv), and each file checked now, so that a bad path or
// PEM is a configuration error naming its line instead of an etcd outage
// found later.
func loadEtcdClient(e config.EtcdSettings, getenv func(string) string) (EtcdClient, error) {
	c := etcdstore.ClientConfig{CACert: e.CACert, Cert: e.Cert, Key: e.Key, User: e.User}
	h := sha256.New()
	fmt.Fprintf(h, "user=%q\n", e.User)
	sum := func(key, path string, b []byte) {
		fmt.Fprintf(h, "%s=%q %x\n", key, path, sha256.Sum256(b))
	}
	read := func(key, path string) ([]byte, error) {
		if path == "" {
			return nil, nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, e.Pos[key].Errorf(key, "%v", err)
		}
		sum(key, path, b)
		return b, nil
	}
	if e.CACert != "" {
		_, ca, err := tlsfiles.ReadCAs(e.CACert)
		if err != nil {
			return EtcdClient{}, e.Pos["etcd-cacert"].Errorf("etcd-cacert", "%v", err)
		}
		sum("etcd-cacert", e.CACert, ca)
	}
	cert, err := read("etcd-cert", e.Cert)
	if err != nil {
		return EtcdClient{}, err
	}
	key, err := read("etcd-key", e.Key)
	if err != nil {
		return EtcdClient{}, err
	}
	if cert != nil {
		if _, err := tls.X509KeyPair(cert, key); err != nil {
			return EtcdClient{}, e.Pos["etcd-cert"].Errorf("etcd-cert", "%s with %s: %v", e.Cert, e.Key, err)
		}
	}
	pw, err := read("etcd-password-file", e.PasswordFile)
	if err != nil {
		return EtcdClient{}, err
	}
	c.Password = strings.TrimRight(string(pw), "\r\n")
	if e.PasswordFile == "" && e.User != "" {
		c.Password = getenv(PasswordEnv)
		fmt.Fprintf(h, "env=%x\n", sha256.Sum256([]byte(c.Password)))
	}
	if e.User != "" && c.Password == "" {
		return EtcdClient{}, e.Pos["etcd-user"].Errorf("etcd-user", "no password: set etcd-password-file or %s", PasswordEnv)
	}
	return EtcdClient{Config: c, Fingerprint: hex.EncodeToString(h.Sum(nil))}, nil
}
