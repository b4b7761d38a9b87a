package daemon

import (
	"context"
	"log/slog"
	"strings"
	"sync"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/geotraffic/geotraffic/conftool/etcdstore"
)

// etcdClients shares one etcd client per endpoint set (and settings) among
// the daemon's services: one connection to etcd, however many services
// watch it. A client is closed when its last service lets it go.
type etcdClients struct {
	mu sync.Mutex
	m  map[string]*sharedClient
}

type sharedClient struct {
	cli  *clientv3.Client
	refs int
}

func newEtcdClients() *etcdClients { return &etcdClients{m: map[string]*sharedClient{}} }

// clientKey identifies a client: its endpoints and every setting.
func clientKey(c etcdstore.ClientConfig, fingerprint string) string {
	return strings.Join(c.Endpoints, ",") + "|" + c.CACert + "|" + c.Cert + "|" + fingerprint
}

// acquire returns the shared client for c, making it if needed, and the
// function that lets it go (call it once). Making one retries until ctx
// ends (nil then): with a user, that needs etcd (etcdstore.Connect).
func (e *etcdClients) acquire(ctx context.Context, c etcdstore.ClientConfig, fingerprint string, log *slog.Logger) (*clientv3.Client, func()) {
	key := clientKey(c, fingerprint)
	e.mu.Lock()
	if sc, ok := e.m[key]; ok {
		sc.refs++
		e.mu.Unlock()
		return sc.cli, e.releaser(key, sc)
	}
	e.mu.Unlock()
	// Outside the lock: other services must not wait on this one's etcd.
	cli := c.Connect(ctx, log)
	if cli == nil {
		return nil, nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	sc, ok := e.m[key]
	if ok { // another service made it meanwhile
		cli.Close()
	} else {
		sc = &sharedClient{cli: cli}
		e.m[key] = sc
	}
	sc.refs++
	return sc.cli, e.releaser(key, sc)
}

func (e *etcdClients) releaser(key string, sc *sharedClient) func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			e.mu.Lock()
			defer e.mu.Unlock()
			if sc.refs--; sc.refs == 0 {
				delete(e.m, key)
				sc.cli.Close()
			}
		})
	}
}

// count is the number of open clients (for tests).
func (e *etcdClients) count() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.m)
}
