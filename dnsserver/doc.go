// Package dnsserver is authdns's network side: SO_REUSEPORT UDP sockets (one
// per CPU), TCP with RFC 7766 pipelining, idle timeouts and connection
// limits (global and per client network, idle connections closed under
// pressure), request parsing (header, question, EDNS0, NSID, Client Subnet,
// keepalive), and the answer path, which reads an immutable Snapshot through
// an atomic pointer and writes wire-format responses straight from the
// pre-packed zone data, so a query costs no locks and no allocations. UDP
// replies go through response rate limiting (package rrl) when the snapshot
// has a limiter: one bucket lock, still no allocation. Replies from signed
// zones to DO queries carry RRSIGs and RFC 9824 compact denials, with the
// signatures from the snapshot's DNSSEC signer (package dnssec).
package dnsserver
