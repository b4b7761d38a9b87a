// Package gdnsdimport translates a gdnsd 3.x configuration directory
// (config with its $include'd files, zones/, geoip/ nets files and the
// state directory's admin_state) into an authdns configuration directory:
// authdns.yaml, geoip.yaml, plugins.yaml, zones/ copied byte for byte,
// nets files and admin_state. Operators' comments are carried into the
// YAML where YAML allows, and every option translated differently, or not
// at all, is reported with the file and line it came from.
package gdnsdimport
