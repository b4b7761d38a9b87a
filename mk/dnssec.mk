# DNSSEC online signing: its tests compare key files with BIND's own tools
# (dnssec-keygen, dnssec-dsfromkey from bind9-utils) and validate answers
# through a real unbound.
TEST_DEPS  += deps-unbound deps-bind9-utils
BENCH_DEPS += deps-unbound

.PHONY: deps-unbound deps-bind9-utils
deps-unbound:
	@scripts/apt-install unbound unbound
deps-bind9-utils:
	@scripts/apt-install dnssec-keygen bind9-utils
