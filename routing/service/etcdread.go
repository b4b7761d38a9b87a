package service

import (
	"context"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/geotraffic/geotraffic/conftool"
)

// ReadEtcd reads every object of the given kinds once, for one-shot
// commands. One transaction reads them all, so they are of one revision,
// as a confctl change that spans kinds was written. ctx bounds it; keys
// outside the layout are skipped.
func ReadEtcd(ctx context.Context, cli *clientv3.Client, l conftool.Layout, kinds ...conftool.Kind) ([]conftool.Object, int64, error) {
	ops := make([]clientv3.Op, 0, len(kinds))
	for _, k := range kinds {
		ops = append(ops, clientv3.OpGet(l.Dir(k), clientv3.WithPrefix()))
	}
	resp, err := cli.Txn(ctx).Then(ops...).Commit()
	if err != nil {
		return nil, 0, fmt.Errorf("etcd: read %s: %w", l.Prefix, err)
	}
	var out []conftool.Object
	for _, r := range resp.Responses {
		for _, kv := range r.GetResponseRange().GetKvs() {
			k, tags, ok := l.Parse(string(kv.Key))
			if !ok {
				continue
			}
			out = append(out, conftool.Object{Kind: k, Key: string(kv.Key), Tags: tags, Value: kv.Value, ModRevision: kv.ModRevision})
		}
	}
	return out, resp.Header.Revision, nil
}
