package authdns

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"strings"

	"github.com/geotraffic/geotraffic/conftool/etcdstore"
)

// etcdSettings is an `etcd:` section with the files it names read: what a
// follower is started with, and what tells a reload whether to restart it.
type etcdSettings struct {
	cfg    *EtcdConfig
	client etcdstore.ClientConfig
	// digest covers the section and the bytes of every file it names, so
	// a renewed certificate or a new password restarts the follower on
	// reload, and an untouched section leaves it running.
	digest string
}

// loadEtcd reads and checks what cfg's `etcd:` names, without contacting
// etcd (start, reload and checkconf all work while etcd is down). nil, nil
// without an `etcd:` section.
func loadEtcd(e *EtcdConfig) (*etcdSettings, error) {
	if e == nil {
		return nil, nil
	}
	cc := etcdstore.ClientConfig{Endpoints: e.Endpoints, CACert: e.CACert, Cert: e.Cert, Key: e.Key, User: e.User}
	h := sha256.New()
	fmt.Fprintf(h, "%q %q %q %q %q %q %q\n", e.Endpoints, e.Prefix, e.CACert, e.Cert, e.Key, e.User, e.PasswordFile)
	for _, f := range []string{e.CACert, e.Cert, e.Key} {
		if f == "" {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("etcd: %w", err)
		}
		h.Write(data)
	}
	if e.PasswordFile != "" {
		pw, err := readSecret(e.PasswordFile)
		if err != nil {
			return nil, fmt.Errorf("etcd.password_file: %w", err)
		}
		cc.Password = pw
		h.Write([]byte(pw))
	}
	if err := cc.Check(); err != nil {
		return nil, err
	}
	return &etcdSettings{cfg: e, client: cc, digest: hex.EncodeToString(h.Sum(nil))}, nil
}

// readSecret reads a password file, which other users must not be able to
// read (as the control token). Only the final line break is dropped: a
// password may hold spaces.
func readSecret(path string) (string, error) {
	info, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	if info.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("%s: mode %v lets other users read the password; chmod 600 it", path, info.Mode().Perm())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	pw := strings.TrimRight(string(data), "\r\n")
	if pw == "" {
		return "", fmt.Errorf("%s: empty password", path)
	}
	return pw, nil
}

// same tells whether s and o would start the same follower.
func (s *etcdSettings) same(o *etcdSettings) bool {
	if s == nil || o == nil {
		return s == o
	}
	return s.digest == o.digest
}
