package daemon

import (
	"context"
	"strings"
	"sync"
	"time"

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

// acquire returns the shared client for c, creating it if needed, and the
// function that lets it go (call it once).
func (e *etcdClients) acquire(c etcdstore.ClientConfig, fingerprint string) (*clientv3.Client, func(), error) {
	key := clientKey(c, fingerprint)
	e.mu.Lock()
	if sc, ok := e.m[key]; ok {
		sc.refs++
		e.mu.Unlock()
		return sc.cli, e.releaser(key, sc), nil
	}
	e.mu.Unlock()
	// Outside the lock: with a user, creating a client waits for etcd.
	cli, err := c.Client()
	if err != nil {
		return nil, nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	sc, ok := e.m[key]
	if ok { // another service created it meanwhile
		cli.Close()
	} else {
		sc = &sharedClient{cli: cli}
		e.m[key] = sc
	}
	sc.refs++
	return sc.cli, e.releaser(key, sc), nil
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

// acquireRetrying retries acquire until it succeeds or ctx ends (nil
// client then), backing off from 0.5 s to 5 s; onErr sees each failure.
func (e *etcdClients) acquireRetrying(ctx context.Context, c etcdstore.ClientConfig, fingerprint string, onErr func(error)) (*clientv3.Client, func()) {
	wait := 500 * time.Millisecond
	for ctx.Err() == nil {
		cli, release, err := e.acquire(c, fingerprint)
		if err == nil {
			return cli, release
		}
		onErr(err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
		wait = min(wait*2, 5*time.Second)
	}
	return nil, nil
}
