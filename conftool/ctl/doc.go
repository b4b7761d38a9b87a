// Package ctl is confctl: conftool's command line over the objects of
// package conftool. It parses the command (global flags, then select, a
// host shortcut, sync or log), reads the objects from a Store, plans the
// change, validates it (values, known sites, and for routes and sites
// going down the whole routing, resolved by package routing), asks for
// confirmation, and commits it in one guarded transaction with its audit
// record. cmd/confctl only wires it to the process.
package ctl
