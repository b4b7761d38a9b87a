# geo: the default GeoIP database is built from a committed CSV and committed
# itself; geo tests fail if the two drift apart.
.PHONY: geoip-db
geoip-db:
	$(GO) run ./geo/internal/mkmmdb -in config/geoip/default-city.csv -out config/geoip/default-city.mmdb
