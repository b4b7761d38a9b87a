# lvsd: the LVS director. Its tests need etcd (lvs/daemon follows
# etcd:// pools of a real etcd, mk/etcd.mk) beyond Go and coreutils (the
# end-to-end test builds bin/lvsd itself); the kernel test is lvs/ipvs's
# `make test-kernel` (mk/kernel.mk) and BGP's is mk/bgp.mk. The status
# page's end-to-end test runs in chromium (mk/statuspage.mk).
.PHONY: test-lvsd run-lvsd

# test-lvsd runs lvsd's own packages and its end-to-end test.
test-lvsd: deps-etcd deps-chromium
	$(GO) test -count=1 ./lvs/config/... ./lvs/pylit/... ./lvs/pool/... ./lvs/monitor/... \
		./lvs/coordinator/... ./lvs/instrumentation/... ./lvs/webstatus/... ./lvs/status/... ./lvs/daemon/... ./test/lvsd/...

# run-lvsd runs the example pybal.conf with the in-memory IPVS (no root needed);
# the API is then on http://127.0.0.1:9090/pools, the status page on
# http://127.0.0.1:9090/ in a browser.
run-lvsd: build
	$(BIN)/lvsd --config config/pybal/pybal.conf --dry-run --no-bgp --debug
