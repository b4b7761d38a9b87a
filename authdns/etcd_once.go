package authdns

import (
	"context"
	"fmt"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	adminstate "github.com/geotraffic/geotraffic/admin_state"
	"github.com/geotraffic/geotraffic/conftool"
)

// ReadEtcd reads the site and admin-state objects once, at one revision,
// and returns the admin state a daemon would take from them, for one-shot
// tools (`authdns states`). Objects whose value or key does not parse are
// left out and returned in bad, each naming its key: there is no previous
// value to keep here. ctx bounds everything, the connection included.
func ReadEtcd(ctx context.Context, e *EtcdConfig) (st *adminstate.State, bad []error, err error) {
	set, err := loadEtcd(e)
	if err != nil {
		return nil, nil, err
	}
	cc := set.client
	if dl, ok := ctx.Deadline(); ok {
		cc.DialTimeout = max(time.Until(dl), time.Millisecond)
	}
	cli, err := cc.Client()
	if err != nil {
		return nil, nil, err
	}
	defer cli.Close()
	layout := e.Layout()
	var ops []clientv3.Op
	for _, k := range etcdKinds() {
		ops = append(ops, clientv3.OpGet(layout.Dir(k), clientv3.WithPrefix()))
	}
	// One transaction: every kind at the same revision.
	resp, err := cli.Txn(ctx).Then(ops...).Commit()
	if err != nil {
		return nil, nil, fmt.Errorf("etcd %v: %w", e.Endpoints, err)
	}
	var objs []conftool.Object
	for _, r := range resp.Responses {
		for _, kv := range r.GetResponseRange().Kvs {
			kind, tags, ok := layout.Parse(string(kv.Key))
			if !ok {
				continue
			}
			o := conftool.Object{Kind: kind, Key: string(kv.Key), Tags: tags, Value: kv.Value, ModRevision: kv.ModRevision}
			if err := validateAdminObject(o); err != nil {
				bad = append(bad, err)
				continue
			}
			objs = append(objs, o)
		}
	}
	st, more := conftool.ToAdminState(objs, resp.Header.Revision)
	return st, append(bad, more...), nil
}
