// Package etcdstore reads and writes conftool objects in etcd: a client
// from common settings (endpoints, TLS, user), a Watcher that keeps the last
// good view of a prefix through outages and compactions, and Commit, which
// changes objects and appends the audit record in one guarded transaction.
package etcdstore
