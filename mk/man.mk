# Man pages: man/*.1 are rendered from each command's --help description
# (a cli.Page in cmd/NAME) and committed; each command's TestManPage fails
# when its page is stale, and `make man` rewrites them.
.PHONY: man
man:
	GEOTRAFFIC_UPDATE_MAN=1 $(GO) test -count=1 -run '^TestManPage$$' ./cmd/...
