// Package zones loads RFC 1035 zone files (plus gdnsd's DYNA/DYNC records)
// from a directory, validates them as a whole, and answers lookups from an
// immutable in-memory snapshot: delegations, wildcards (RFC 4592), CNAME
// chains within a zone, negative answers, and the additional-section data
// for NS, MX and SRV targets, all precomputed at load so a lookup only walks
// maps and slices.
package zones
