# confctl: its tests run a real etcd (deps-etcd, mk/etcd.mk); the
# end-to-end test in test/confctl builds its own confctl binary.
.PHONY: test-confctl
# test-confctl runs conftool's packages, confctl's logic and its end-to-end test.
test-confctl: deps-etcd
	$(GO) test -count=1 ./conftool/... ./cmd/confctl/... ./test/confctl/...
