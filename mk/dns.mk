# authdns: dig for end-to-end tests; dnsperf and gdnsd for benchmarks.
TEST_DEPS  += deps-dig
BENCH_DEPS += deps-dig deps-dnsperf deps-gdnsd

.PHONY: deps-dig deps-dnsperf deps-gdnsd
deps-dig:
	@scripts/apt-install dig bind9-dnsutils
deps-dnsperf:
	@scripts/apt-install dnsperf dnsperf
deps-gdnsd:
	@scripts/apt-install gdnsd gdnsd
