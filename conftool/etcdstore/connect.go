package etcdstore

import (
	"context"
	"log/slog"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Connect makes a client, retrying until it works or ctx ends (nil then).
// Client fails at once only with a user (it logs in while connecting) or bad
// TLS files; a daemon started while etcd is down must still start, serve
// its files, and pick etcd up when it comes. The failure is logged once.
func (c ClientConfig) Connect(ctx context.Context, log *slog.Logger) *clientv3.Client {
	b := newBackoff(retryMin, retryMax)
	logged := false
	for {
		cli, err := c.Client()
		if err == nil {
			if logged {
				log.Info("etcd: client ready", "endpoints", strings.Join(c.Endpoints, ","))
			}
			return cli
		}
		if !logged {
			log.Error("etcd: cannot make a client; retrying, nothing from etcd applies until it works",
				"endpoints", strings.Join(c.Endpoints, ","), "err", err)
			logged = true
		}
		b.wait(ctx)
		if ctx.Err() != nil {
			return nil
		}
	}
}
