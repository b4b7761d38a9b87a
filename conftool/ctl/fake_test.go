package ctl

import (
	"bytes"
	"context"
	"encoding/json"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/geotraffic/geotraffic/conftool"
	"github.com/geotraffic/geotraffic/conftool/etcdstore"
)

// fakeStore is an in-memory Store with etcd's revision semantics, for
// unit tests; the same behaviour is tested against a real etcd in
// etcd_test.go.
type fakeStore struct {
	l   conftool.Layout
	rev int64
	kv  map[string]fakeKV
	log []etcdstore.AuditRecord
	// beforeCommit runs inside Commit before the conditions are checked,
	// standing in for a concurrent writer.
	beforeCommit func()
}

type fakeKV struct {
	value  []byte
	modRev int64
}

func newFake(kvs ...string) *fakeStore {
	s := &fakeStore{l: conftool.NewLayout(""), kv: map[string]fakeKV{}}
	for i := 0; i+1 < len(kvs); i += 2 {
		s.put(kvs[i], kvs[i+1])
	}
	return s
}

func (s *fakeStore) put(key, value string) {
	s.rev++
	s.kv[key] = fakeKV{value: []byte(value), modRev: s.rev}
}

func (s *fakeStore) Layout() conftool.Layout { return s.l }

func (s *fakeStore) List(_ context.Context, k conftool.Kind) ([]conftool.Object, int64, error) {
	var out []conftool.Object
	for key, kv := range s.kv {
		if kind, tags, ok := s.l.Parse(key); ok && kind == k {
			out = append(out, conftool.Object{Kind: k, Key: key, Tags: tags, Value: kv.value, ModRevision: kv.modRev})
		}
	}
	return out, s.rev, nil
}

func (s *fakeStore) Commit(_ context.Context, changes []etcdstore.Change, guards []etcdstore.Guard, rec etcdstore.AuditRecord) (int64, error) {
	if s.beforeCommit != nil {
		s.beforeCommit()
	}
	for _, c := range changes {
		kv, ok := s.kv[c.Key]
		if (c.Old == nil && ok) || (c.Old != nil && (!ok || kv.modRev != c.Old.ModRevision)) {
			return 0, etcdstore.ErrConflict
		}
	}
	for _, g := range guards {
		for key, kv := range s.kv {
			if strings.HasPrefix(key, g.Dir) && kv.modRev > g.Revision {
				return 0, etcdstore.ErrConflict
			}
		}
		for _, o := range g.Objects {
			if _, ok := s.kv[o.Key]; !ok {
				return 0, etcdstore.ErrConflict
			}
		}
	}
	s.rev++
	rec.Changes = nil
	for _, c := range changes {
		ac := etcdstore.AuditChange{Key: c.Key, Old: json.RawMessage("null"), New: json.RawMessage("null")}
		if c.Old != nil {
			ac.Old = c.Old.Value
		}
		if c.New == nil {
			delete(s.kv, c.Key)
		} else {
			s.kv[c.Key] = fakeKV{value: c.New, modRev: s.rev}
			ac.New = c.New
		}
		rec.Changes = append(rec.Changes, ac)
	}
	rec.Revision = s.rev
	s.log = append(s.log, rec)
	return s.rev, nil
}

func (s *fakeStore) Log(_ context.Context, n int) ([]etcdstore.AuditRecord, error) {
	if n > 0 && n < len(s.log) {
		return s.log[len(s.log)-n:], nil
	}
	return s.log, nil
}

// dump is the store's content, one "key value" per line, sorted.
func (s *fakeStore) dump() string {
	var lines []string
	for k, kv := range s.kv {
		lines = append(lines, k+" "+string(kv.value))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// run is one confctl command line against a store. stdin "" means no
// terminal; anything else is typed at one.
type runResult struct {
	code           int
	stdout, stderr string
}

func run(t *testing.T, s Store, env map[string]string, stdin string, args ...string) runResult {
	t.Helper()
	var out, errOut bytes.Buffer
	e := Env{
		Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errOut,
		Getenv:   func(k string) string { return env[k] },
		Terminal: stdin != "",
		Now:      func() time.Time { return time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC) },
		Open:     func(Options) (Store, func(), error) { return s, func() {}, nil },
	}
	code := Main(context.Background(), e, args)
	return runResult{code: code, stdout: out.String(), stderr: errOut.String()}
}
