// Package zones loads a directory of zone files in gdnsd 3's dialect of
// RFC 1035 (DYNA/DYNC records, @Z/@F names, $INCLUDE relative to the
// including file, gdnsd's TTL rules and data warnings), validates them as
// a whole, and answers lookups from an immutable in-memory snapshot:
// delegations, wildcards (RFC 4592), CNAME chains within a zone, negative
// answers, and the additional-section data for NS, MX and SRV targets,
// all precomputed at load so a lookup only walks maps and slices.
package zones
