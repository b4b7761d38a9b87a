// Package kernele2e tests lvs/ipvs against a real Linux IPVS. Its tests carry
// the build tag kernelvm and run only inside the throw-away VM that
// `make test-kernel` boots (test/kernel/run.sh): they create and delete IPVS
// services and network namespaces, which must never happen on a host.
package kernele2e
