package etcdstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/geotraffic/geotraffic/conftool"
)

// ErrConflict is returned by Commit when an object changed after it was
// read: nothing was written.
var ErrConflict = errors.New("an object changed since it was read (a concurrent change); nothing was written")

// MaxChanges is etcd's default limit of operations in one transaction
// (--max-txn-ops 128), less the audit record.
const MaxChanges = 127

// Change is one object to write. Old is the object as read (nil when it
// did not exist); New is the new value (nil deletes the object).
type Change struct {
	Key string
	Old *conftool.Object
	New []byte
}

// AuditRecord is what an audit log entry says: who changed what, when, with
// which command, and each object's old and new value.
type AuditRecord struct {
	Who      string        `json:"who"`
	When     time.Time     `json:"when"`
	Command  string        `json:"command"`
	Selector string        `json:"selector,omitempty"`
	Changes  []AuditChange `json:"changes"`
	Revision int64         `json:"revision,omitempty"` // set when read back
}

// AuditChange is one object's change in an AuditRecord (null: absent).
type AuditChange struct {
	Key string          `json:"key"`
	Old json.RawMessage `json:"old"`
	New json.RawMessage `json:"new"`
}

// Guard is a directory whose objects a change was decided on without
// changing them: the routes and site states a safety check resolved. A
// commit guarded by it fails with ErrConflict if, since the directory was
// listed at Revision, a key under Dir was created or modified, or one of
// Objects (the objects listed then) was deleted.
type Guard struct {
	Dir      string
	Revision int64
	Objects  []conftool.Object
}

// Commit writes every change and the audit record in one transaction that
// succeeds only if no object changed since it was read. It returns the
// revision of the write.
func Commit(ctx context.Context, cli *clientv3.Client, l conftool.Layout, changes []Change, rec AuditRecord) (int64, error) {
	return CommitGuarded(ctx, cli, l, changes, nil, rec)
}

// CommitGuarded is Commit that also fails if anything under the guards
// changed, so that two changes each checked against the same state cannot
// both be written when together they are unsafe.
func CommitGuarded(ctx context.Context, cli *clientv3.Client, l conftool.Layout, changes []Change, guards []Guard, rec AuditRecord) (int64, error) {
	if len(changes) == 0 {
		return 0, errors.New("nothing to change")
	}
	if len(changes) > MaxChanges {
		return 0, fmt.Errorf("%d objects in one change; etcd takes at most %d in a transaction: select fewer", len(changes), MaxChanges)
	}
	conds := guardConds(changes, guards)
	if len(conds) > maxTxnOps {
		return 0, fmt.Errorf("the change depends on %d objects; etcd compares at most %d in a transaction", len(conds), maxTxnOps)
	}
	var ops []clientv3.Op
	rec.Changes = rec.Changes[:0]
	for _, c := range changes {
		ac := AuditChange{Key: c.Key, Old: json.RawMessage("null"), New: json.RawMessage("null")}
		if c.Old != nil {
			ac.Old = rawOrString(c.Old.Value)
		}
		if c.New == nil {
			ops = append(ops, clientv3.OpDelete(c.Key))
		} else {
			ops = append(ops, clientv3.OpPut(c.Key, string(c.New)))
			ac.New = rawOrString(c.New)
		}
		rec.Changes = append(rec.Changes, ac)
	}
	if rec.When.IsZero() {
		rec.When = time.Now()
	}
	entry, err := json.Marshal(rec)
	if err != nil {
		return 0, err
	}
	ops = append(ops, clientv3.OpPut(auditKey(l, rec), string(entry)))
	resp, err := cli.Txn(ctx).If(conds...).Then(ops...).Commit()
	if err != nil {
		return 0, fmt.Errorf("etcd transaction: %w", err)
	}
	if !resp.Succeeded {
		return 0, ErrConflict
	}
	return resp.Header.Revision, nil
}

// maxTxnOps is etcd's default --max-txn-ops, which also bounds compares.
const maxTxnOps = MaxChanges + 1

// guardConds is the transaction's condition: each changed object is as it
// was read (absent for a creation), and so is each guard.
func guardConds(changes []Change, guards []Guard) []clientv3.Cmp {
	var conds []clientv3.Cmp
	seen := map[string]bool{}
	for _, c := range changes {
		seen[c.Key] = true
		if c.Old == nil {
			conds = append(conds, clientv3.Compare(clientv3.CreateRevision(c.Key), "=", 0))
		} else {
			conds = append(conds, clientv3.Compare(clientv3.ModRevision(c.Key), "=", c.Old.ModRevision))
		}
	}
	for _, g := range guards {
		// Every key under Dir, created or modified, has a mod revision
		// above Revision; a deleted one is caught by its own compare.
		conds = append(conds, clientv3.Compare(clientv3.ModRevision(g.Dir), "<", g.Revision+1).WithPrefix())
		for _, o := range g.Objects {
			if !seen[o.Key] {
				seen[o.Key] = true
				conds = append(conds, clientv3.Compare(clientv3.ModRevision(o.Key), "=", o.ModRevision))
			}
		}
	}
	return conds
}

// rawOrString keeps a valid JSON value as it is and quotes anything else,
// so a garbage value still shows in the audit log.
func rawOrString(v []byte) json.RawMessage {
	if json.Valid(v) {
		return slices.Clone(v)
	}
	q, _ := json.Marshal(string(v))
	return q
}

// auditKey sorts by time; the random suffix keeps two writers apart.
func auditKey(l conftool.Layout, rec AuditRecord) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return l.LogDir() + fmt.Sprintf("%020d", rec.When.UnixNano()) + "-" + hex.EncodeToString(b[:])
}

// List reads every object of the prefix, valid or not, and the revision.
func List(ctx context.Context, cli *clientv3.Client, l conftool.Layout, prefix string) ([]conftool.Object, int64, error) {
	resp, err := cli.Get(ctx, prefix, clientv3.WithPrefix())
	if err != nil {
		return nil, 0, fmt.Errorf("etcd: list %s: %w", prefix, err)
	}
	var out []conftool.Object
	for _, kv := range resp.Kvs {
		k, tags, ok := l.Parse(string(kv.Key))
		if !ok {
			continue
		}
		out = append(out, conftool.Object{Kind: k, Key: string(kv.Key), Tags: tags, Value: kv.Value, ModRevision: kv.ModRevision})
	}
	return out, resp.Header.Revision, nil
}

// Log reads the last n audit records (all when n <= 0), oldest first.
func Log(ctx context.Context, cli *clientv3.Client, l conftool.Layout, n int) ([]AuditRecord, error) {
	opts := []clientv3.OpOption{clientv3.WithPrefix(), clientv3.WithSort(clientv3.SortByKey, clientv3.SortDescend)}
	if n > 0 {
		opts = append(opts, clientv3.WithLimit(int64(n)))
	}
	resp, err := cli.Get(ctx, l.LogDir(), opts...)
	if err != nil {
		return nil, fmt.Errorf("etcd: read the audit log: %w", err)
	}
	out := make([]AuditRecord, 0, len(resp.Kvs))
	for i := len(resp.Kvs) - 1; i >= 0; i-- {
		var r AuditRecord
		if err := json.Unmarshal(resp.Kvs[i].Value, &r); err != nil {
			return nil, fmt.Errorf("audit record %s: %w", resp.Kvs[i].Key, err)
		}
		r.Revision = resp.Kvs[i].ModRevision
		out = append(out, r)
	}
	return out, nil
}
