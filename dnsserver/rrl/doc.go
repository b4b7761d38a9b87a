// Package rrl is response rate limiting with BIND's semantics: each UDP
// response is charged to an account keyed by its kind, the client's network
// and what it answers, and an account over its rate gets its responses
// dropped or slipped (sent as an empty TC=1 answer, so a real client retries
// over TCP). The table is fixed-size and set-associative, so memory is
// bounded whatever the sources, and charging a response takes one bucket
// lock and allocates nothing.
package rrl
