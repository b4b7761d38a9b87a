# etcd (v3 API), the state store: tests run a real etcd server, Debian's
# etcd-server (etcd 3.4, /usr/bin/etcd), through internal/testetcd. Each
# test starts its own etcd on free 127.0.0.1 ports with its data in a
# temporary directory; the Debian package's system service is not used.
# Installing etcd-server may start that service on 127.0.0.1:2379/2380
# (where systemd runs); that is harmless, as tests never use those ports.
# etcd-client gives etcdctl, which no test needs but is handy by hand:
#   etcdctl --endpoints http://127.0.0.1:PORT get --prefix /
TEST_DEPS  += deps-etcd
BENCH_DEPS += deps-etcd

.PHONY: deps-etcd test-etcd
deps-etcd:
	@scripts/apt-install etcd etcd-server
	@scripts/apt-install etcdctl etcd-client

# test-etcd runs the etcd harness, conftool, confctl and the fleet tests.
test-etcd: deps-etcd
	$(GO) test -count=1 ./internal/testetcd/... ./conftool/... ./cmd/confctl/... ./test/confctl/... ./test/etcd/...

# run-fleet starts etcd, two authdns, trafficctl serve and lvsd (--dry-run)
# on loopback from the default configuration, for trying confctl by hand.
.PHONY: run-fleet
run-fleet: build deps-etcd
	scripts/run-fleet.sh
