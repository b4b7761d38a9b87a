// Package lvs is the LVS director (PyBal's job). Its sub-packages each do one
// thing: config (pybal.conf), pool sources, monitors, the coordinator that
// decides pooling, ipvs (kernel programming by reconciliation), bgp (service
// IP announcement) and the instrumentation API.
package lvs
