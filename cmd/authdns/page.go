package main

import (
	"flag"
	"time"

	"github.com/geotraffic/geotraffic/internal/cli"
)

// options are authdns's flags; one set serves every command.
type options struct {
	config, logFormat, logLevel         string
	version, noEtcd                     bool
	control, tokenFile, caFile, tlsName string
	certFile, keyFile                   string
	timeout                             time.Duration
	// import-gdnsd
	from, to, listen, geoipDBDir, stateDir string
	force                                  bool
	// dnssec keygen, ds
	alg                                           uint
	csk, ksk, zsk                                 bool
	keyDir, publish, activate, inactive, deleteAt string
}

const defaultConfig = "/etc/authdns/authdns.yaml"

func newFlags() (*flag.FlagSet, *options) {
	o := &options{}
	fs := flag.NewFlagSet("authdns", flag.ContinueOnError)
	fs.StringVar(&o.config, "config", defaultConfig, "path to authdns.yaml")
	fs.StringVar(&o.logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&o.logLevel, "log-level", "", "log level: debug, info, warn or error (default info for serve, warn for the other commands)")
	fs.BoolVar(&o.version, "version", false, "print the version and exit")
	fs.StringVar(&o.control, "control", "", "ctl: control address (socket path or host:port)")
	fs.StringVar(&o.tokenFile, "token-file", "", "ctl: file holding the bearer token for a TCP control address")
	fs.DurationVar(&o.timeout, "timeout", 60*time.Second, "ctl: time-out for the call")
	fs.StringVar(&o.caFile, "ca-file", "", "ctl: PEM file of the CAs for a TLS control address (default: the system's roots)")
	fs.StringVar(&o.tlsName, "tls-server-name", "", "ctl: name the control server's certificate must hold (default: the address's host)")
	fs.StringVar(&o.certFile, "cert-file", "", "ctl: client certificate (PEM) for a control_tcp with control_client_ca, in place of --token-file (turns TLS on)")
	fs.StringVar(&o.keyFile, "key-file", "", "ctl: the client certificate's key (PEM)")
	fs.BoolVar(&o.noEtcd, "no-etcd", false, "states: the admin_state file alone, without reading etcd")
	fs.StringVar(&o.from, "from", "", "import-gdnsd: gdnsd's configuration directory (holding config, zones/, geoip/)")
	fs.StringVar(&o.to, "to", "", "import-gdnsd: the authdns configuration directory to write")
	fs.StringVar(&o.listen, "listen", "", "import-gdnsd: ADDR[,ADDR] (IP:port) to listen on instead of options.listen")
	fs.StringVar(&o.geoipDBDir, "geoip-db-dir", "", "import-gdnsd: where geoip2_db names resolve (default: FROM/geoip)")
	fs.StringVar(&o.stateDir, "state-dir", "", "import-gdnsd: gdnsd's state directory, holding admin_state (default: options.state_dir, else FROM when it holds an admin_state, else /var/lib/gdnsd)")
	fs.BoolVar(&o.force, "force", false, "import-gdnsd: replace a non-empty --to directory")
	fs.StringVar(&o.keyDir, "dir", "", "dnssec: the directory of the key files (default: the one --config's dnssec: section gives the zone)")
	fs.UintVar(&o.alg, "alg", 13, "dnssec keygen: algorithm, 13 (ECDSAP256SHA256) or 15 (ED25519)")
	fs.BoolVar(&o.csk, "csk", false, "dnssec keygen: a combined signing key, flags 257 (the default)")
	fs.BoolVar(&o.ksk, "ksk", false, "dnssec keygen: a key-signing key, flags 257, for a zone that also has a ZSK")
	fs.BoolVar(&o.zsk, "zsk", false, "dnssec keygen: a zone-signing key, flags 256")
	fs.StringVar(&o.publish, "publish", "", "dnssec keygen: when the key is published in DNSKEY (default now): `TIME` as YYYYMMDD[HHMMSS] UTC, now, +OFFSET such as +30d, or none")
	fs.StringVar(&o.activate, "activate", "", "dnssec keygen: when the key starts signing (default now, or --publish when later); `TIME` as for --publish")
	fs.StringVar(&o.inactive, "inactive", "", "dnssec keygen: when the key stops signing (default never); `TIME` as for --publish")
	fs.StringVar(&o.deleteAt, "delete", "", "dnssec keygen: when the key leaves DNSKEY (default never); `TIME` as for --publish")
	return fs, o
}

func page() *cli.Page {
	fs, _ := newFlags()
	return &cli.Page{
		Name:    "authdns",
		Summary: "authoritative DNS server with GeoIP answers (DYNA/DYNC) and admin_state",
		Synopsis: []string{
			"authdns [serve] [--config FILE] [--log-format text|json] [--log-level LEVEL]",
			"authdns checkconf [--config FILE]",
			"authdns ctl [--control ADDR | --config FILE] [TLS AND TOKEN FLAGS] COMMAND [ARG]",
			"authdns states [--config FILE] [--no-etcd]",
			"authdns geoip-lookup [--config FILE] MAP ADDRESS",
			"authdns import-gdnsd --from GDNSD_DIR --to OUT_DIR [--listen ADDR[,ADDR]] [--geoip-db-dir DIR] [--state-dir DIR] [--force]",
			"authdns dnssec keygen ZONE [--alg 13|15] [--csk|--ksk|--zsk] [--dir DIR | --config FILE] [--publish T] [--activate T] [--inactive T] [--delete T]",
			"authdns dnssec ds ZONE [--dir DIR | --config FILE]",
			"authdns --version | --help",
		},
		Text: `authdns serves RFC 1035 zones and GeoIP-driven DYNA/DYNC records, with
the states of the admin_state file (and etcd, when configured) forcing
datacentres and sites up or down. Flags may come before or after the
command and its arguments.`,
		Flags: fs,
		Commands: []cli.Page{
			{Name: "authdns serve", Synopsis: []string{"authdns [serve] [--config FILE]"}, Text: `Serve DNS, the control API and /metrics (the default command). SIGHUP
(or ctl reload) reloads the configuration, zones, GeoIP databases, nets
files and admin_state atomically; a failed reload keeps the old state.
SIGTERM or SIGINT stop. Under systemd (NOTIFY_SOCKET set) it reports
READY=1 once it listens, RELOADING=1 and READY=1 around a SIGHUP reload,
and STOPPING=1.`},
			{Name: "authdns checkconf", Synopsis: []string{"authdns checkconf [--config FILE]"}, Text: `Load and validate everything as the daemon would (data directory, zones,
geoip configuration and databases, nets files, admin_state, control
token); print every error as file:line: reason and exit 1 on any error.
An admin_state entry that matches nothing the geoip configuration knows
(a typo such as site/eqaid) is a warning on stderr, as in gdnsd; the exit
status stays 0. Nothing is changed.`},
			{Name: "authdns ctl", Synopsis: []string{"authdns ctl [--control ADDR | --config FILE] [--token-file F] [--ca-file F] [--tls-server-name NAME] [--cert-file F --key-file F] COMMAND"}, Text: `Call a running daemon's control API. ADDR is the Unix socket path,
host:port of control_tcp, or https://host:port when control_tcp has TLS
(default: the control key of --config). TLS is verified against --ca-file
(default: the system's roots); --ca-file or --tls-server-name also turn
TLS on for a host:port address. A TCP address needs --token-file, or a
client certificate (--cert-file, --key-file) for a server with
control_client_ca; the token is never sent in clear to a non-loopback
address. COMMAND is one of:
  status | reload | states | stats | data | stage DIR | commit ID | abort ID`},
			{Name: "authdns states", Synopsis: []string{"authdns states [--config FILE] [--no-etcd]"}, Text: `Print the forced and real state of every geoip map/resource/DC and site
as JSON, each forced one with its source: the admin_state file and, with
an etcd: section, etcd read once (3 s at most; if etcd does not answer,
the file's states are printed and the exit status is 1; --no-etcd skips
etcd).`},
			{Name: "authdns geoip-lookup", Synopsis: []string{"authdns geoip-lookup [--config FILE] MAP ADDRESS"}, Text: `Print MAP => PREFIX/LEN => dc1, dc2, ... for a client address.`},
			{Name: "authdns import-gdnsd", Synopsis: []string{"authdns import-gdnsd --from GDNSD_DIR --to OUT_DIR [--listen ADDR[,ADDR]] [--geoip-db-dir DIR] [--state-dir DIR] [--force]"}, Text: `Translate a gdnsd 3.x configuration directory (config and the files it
$includes, zones/, geoip/ nets files, the state directory's admin_state)
into OUT_DIR: authdns.yaml, geoip.yaml, plugins.yaml, zones/ copied byte
for byte, nets/ and admin_state. Comments are carried into the YAML.
Prints one line per option translated differently or not at all, as
FILE:LINE: option X: not needed|warning|error: ..., FILE relative to
GDNSD_DIR. OUT_DIR must be empty or absent (--force replaces it) and
apart from GDNSD_DIR; it is built beside OUT_DIR and renamed into place. The result is then checked
as authdns checkconf would. Exit 1 when an option that changes answers
could not be translated or authdns refuses the result (OUT_DIR is still
written, to be fixed by hand); nothing is written when the gdnsd
configuration does not parse.`},
			{Name: "authdns dnssec keygen", Synopsis: []string{"authdns dnssec keygen ZONE [--alg 13|15] [--csk|--ksk|--zsk] [--dir DIR | --config FILE] [--publish T] [--activate T] [--inactive T] [--delete T]"}, Text: `Generate a DNSSEC key pair for ZONE and write it into DIR (without --dir:
the key directory the dnssec: section of --config gives ZONE, so that the
daemon finds the key) as dnssec-keygen does: KZONE.+ALG+TAG.key (mode 0644)
and .private (format v1.3, mode 0600, never replacing a file), with the
timing metadata Created and Publish set to now unless given, Activate to
now or to a later --publish unless given, and Inactive and Delete when
given. Print the base name. --csk (the default) and --ksk make flags
257, --zsk flags 256; a zone whose only active keys have flags 257 signs
everything with them. T is YYYYMMDDHHMMSS or YYYYMMDD in UTC, now, an
offset from now (+30d, -1h; units y, mo, w, d, h, mi, s) or none. The
daemon follows the dates: a key is in the DNSKEY set from Publish to
Delete and signs from Activate to Inactive, so a rollover needs new
files and no restart.`},
			{Name: "authdns dnssec ds", Synopsis: []string{"authdns dnssec ds ZONE [--dir DIR | --config FILE]"}, Text: `Print the DS record (SHA-256, as dnssec-dsfromkey -2 prints it) of every
KSK or CSK of ZONE in DIR that is published now, for the registrar.
Without --dir, DIR is the key directory the dnssec: section of --config
gives ZONE. Every key file in DIR must read; exit 1 when one does not or
ZONE has no published KSK or CSK.`},
		},
		Exit: []cli.Item{
			{Term: "0", Text: "success (serve: stopped by a signal)"},
			{Term: "1", Text: "an error: bad configuration, a failed call, etcd not read by states, an import that does not answer as gdnsd"},
			{Term: "2", Text: "usage error"},
		},
		Env:   []cli.Item{{Term: "NOTIFY_SOCKET", Text: "serve: systemd's notification socket (Type=notify)"}, {Term: "GOMAXPROCS", Text: "left as set; otherwise raised by one per blocking UDP reader"}},
		Files: []cli.Item{{Term: defaultConfig, Text: "the default configuration"}},
		Examples: []cli.Item{
			{Term: "authdns checkconf --config /etc/authdns/authdns.yaml", Text: "Validate a configuration before a reload."},
			{Term: "authdns geoip-lookup generic-map 192.0.2.1 --config /etc/authdns/authdns.yaml", Text: "Which datacentres a client address is sent to."},
			{Term: "authdns ctl --control /run/authdns/control.sock reload", Text: "Reload a running daemon through its control socket."},
			{Term: "authdns import-gdnsd --from /etc/gdnsd --to /etc/authdns --state-dir /var/lib/gdnsd", Text: "Translate gdnsd's configuration, then check it with authdns checkconf --config /etc/authdns/authdns.yaml."},
			{Term: "authdns dnssec keygen example.org --dir /etc/authdns/keys", Text: "Make a CSK (ECDSA P-256) that signs from now; then authdns dnssec ds example.org --dir /etc/authdns/keys prints its DS for the registrar."},
			{Term: "authdns dnssec keygen example.org --zsk --publish now --activate +2d --dir /etc/authdns/keys", Text: "Pre-publish a successor ZSK that signs in two days; give the old ZSK's files Inactive +2d and Delete +4d with dnssec-settime -I +2d -D +4d."},
		},
		SeeAlso: []string{"authdns-update(1)", "trafficctl(1)", "confctl(1)", "lvsd(1)"},
	}
}
