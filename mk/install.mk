# make install: the binaries, man pages and example systemd units.
#   make install PREFIX=/usr DESTDIR=/tmp/pkg
# The units name their binaries under $(BINDIR) (@BINDIR@ in dist/systemd).
# test/install checks that systemd-analyze verify accepts the installed
# units: it needs systemd-analyze (Debian's systemd), man (man-db, for
# Documentation=man:...; its groff also renders the man pages in
# internal/cli's test) and kill (procps, which ExecReload names).
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man
SYSTEMDDIR ?= $(PREFIX)/lib/systemd/system
DESTDIR    ?=
COMMANDS   := authdns authdns-update confctl lvsd trafficctl
UNITS      := $(wildcard dist/systemd/*.service)

TEST_DEPS  += deps-install

.PHONY: install uninstall deps-install
install: build
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(SYSTEMDDIR)
	install -m 0755 $(addprefix $(BIN)/,$(COMMANDS)) $(DESTDIR)$(BINDIR)/
	install -m 0644 $(addprefix man/,$(addsuffix .1,$(COMMANDS))) $(DESTDIR)$(MANDIR)/man1/
	for u in $(UNITS); do \
		sed 's|@BINDIR@|$(BINDIR)|g' $$u >$(DESTDIR)$(SYSTEMDDIR)/$$(basename $$u) && \
		chmod 0644 $(DESTDIR)$(SYSTEMDDIR)/$$(basename $$u) || exit 1; \
	done

uninstall:
	rm -f $(addprefix $(DESTDIR)$(BINDIR)/,$(COMMANDS))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man1/,$(addsuffix .1,$(COMMANDS)))
	rm -f $(addprefix $(DESTDIR)$(SYSTEMDDIR)/,$(notdir $(UNITS)))

deps-install:
	@scripts/apt-install systemd-analyze systemd
	@scripts/apt-install man man-db
	@scripts/apt-install kill procps
