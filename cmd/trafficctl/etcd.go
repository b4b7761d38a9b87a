package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/geotraffic/geotraffic/conftool"
	"github.com/geotraffic/geotraffic/conftool/etcdstore"
	"github.com/geotraffic/geotraffic/internal/cli"
	"github.com/geotraffic/geotraffic/routing/service"
)

// envEtcdPassword holds the etcd user's password: a flag would show it in
// ps and shell history.
const envEtcdPassword = "TRAFFICCTL_ETCD_PASSWORD"

// etcdFlags are the --etcd settings, the same for every command. They are
// confctl's settings with an etcd- prefix, since trafficctl's other flags
// name files (--key alone would be ambiguous).
type etcdFlags struct {
	endpoints, prefix, cacert, cert, key, user string
	timeout                                    time.Duration
}

func (e *etcdFlags) register(fs *flag.FlagSet, timeoutHelp string) {
	fs.StringVar(&e.endpoints, "etcd", "", "etcd endpoints URL[,URL]: take site, route and app-route objects from etcd over routing.yaml (default: files only)")
	fs.StringVar(&e.prefix, "etcd-prefix", conftool.DefaultPrefix, "key prefix of the objects in etcd (confctl's --prefix)")
	fs.StringVar(&e.cacert, "etcd-cacert", "", "CA certificate (PEM) of etcd's server certificate")
	fs.StringVar(&e.cert, "etcd-cert", "", "client certificate (PEM) for etcd, with --etcd-key")
	fs.StringVar(&e.key, "etcd-key", "", "client key (PEM) for etcd, with --etcd-cert")
	fs.StringVar(&e.user, "etcd-user", "", "etcd user; the password is $"+envEtcdPassword)
	fs.DurationVar(&e.timeout, "etcd-timeout", 5*time.Second, timeoutHelp)
}

func (e *etcdFlags) enabled() bool { return e.endpoints != "" }

// check refuses etcd settings without --etcd: they would silently do
// nothing.
func (e *etcdFlags) check(fs *flag.FlagSet) error {
	var stray []string
	fs.Visit(func(f *flag.Flag) {
		if strings.HasPrefix(f.Name, "etcd-") && !e.enabled() {
			stray = append(stray, "--"+f.Name)
		}
	})
	if len(stray) > 0 {
		return cli.Usagef("%s without --etcd", strings.Join(stray, ", "))
	}
	if e.enabled() && len(splitList(e.endpoints)) == 0 {
		return cli.Usagef("--etcd: no endpoint in %q", e.endpoints)
	}
	if e.timeout <= 0 {
		return cli.Usagef("--etcd-timeout must be positive")
	}
	return nil
}

func (e *etcdFlags) layout() conftool.Layout { return conftool.NewLayout(e.prefix) }

func (e *etcdFlags) endpointList() []string { return splitList(e.endpoints) }

// client opens a client; it does not contact etcd (with a user it does,
// bounded by --etcd-timeout).
func (e *etcdFlags) client() (*clientv3.Client, error) {
	cc := etcdstore.ClientConfig{Endpoints: e.endpointList(), CACert: e.cacert, Cert: e.cert, Key: e.key,
		User: e.user, Password: os.Getenv(envEtcdPassword), DialTimeout: e.timeout}
	return cc.Client()
}

// read reads the objects of kinds once, for a one-shot command. An
// unreachable etcd is an error: the operator asked for etcd's view, and
// the files alone would answer a different question.
func (e *etcdFlags) read(kinds []conftool.Kind) ([]conftool.Object, int64, error) {
	cli, err := e.client()
	if err != nil {
		return nil, 0, err
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), e.timeout)
	defer cancel()
	objs, rev, err := service.ReadEtcd(ctx, cli, e.layout(), kinds...)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return nil, 0, fmt.Errorf("etcd %s: unreachable within --etcd-timeout %v (no fallback to the files alone when --etcd is given): %w",
			e.endpoints, e.timeout, err)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("etcd %s: %w", e.endpoints, err)
	}
	return objs, rev, nil
}

// remote reads routing's kinds once, and admin-state objects too with
// withAdmin (GeoDNS's, which `check` needs), and reports on stderr what it
// found: the revision, each override and each site it marks DOWN, and each
// value left out (a running serve would keep its last good value, which a
// one-shot command cannot know).
func (e *etcdFlags) remote(stderr io.Writer, withAdmin bool) (*service.Remote, []conftool.Object, error) {
	kinds := service.EtcdKinds()
	if withAdmin {
		kinds = append([]conftool.Kind{conftool.AdminState}, kinds...)
	}
	objs, rev, err := e.read(kinds)
	if err != nil {
		return nil, nil, err
	}
	r, bad := service.NewRemote(objs, rev)
	fmt.Fprintf(stderr, "trafficctl: etcd %s: revision %d, %d override(s)\n", e.endpoints, rev, r.Len())
	for _, err := range bad {
		fmt.Fprintf(stderr, "trafficctl: warning: etcd: value left out: %v\n", err)
	}
	for _, src := range r.Sources() {
		fmt.Fprintf(stderr, "trafficctl: override from %s\n", src)
	}
	if r.Sites != nil {
		for _, en := range r.Sites.Entries {
			if en.Down {
				fmt.Fprintf(stderr, "trafficctl: %s => DOWN (%s)\n", en.Pattern, en.Origin(""))
			}
		}
	}
	return r, objs, nil
}
