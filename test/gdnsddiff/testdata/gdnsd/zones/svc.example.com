; discovery zone: internal service names.
$TTL 300
@ IN SOA ns0.example.org. hostmaster.example.org. 2026120601 3600 900 1209600 60
@                 IN NS   ns0.example.org.
@                 IN NS   ns1.example.org.
api-rw       300/10  IN DYNA metafo!disc-api-rw
search       300/10  IN DYNA metafo!disc-search
search-ro    300/10  IN DYNA geoip!disc-search-geo
appservers-ro 300/10 IN DYNA geoip!disc-appservers-ro
mw-rw        300/10  IN DYNA metafo!disc-mw-rw
mw-rw-eqiad  300/10  IN DYNA metafo!disc-mw-rw/eqiad
kafka        300/10  IN DYNA metafo!disc-kafka
api-cname    300/10  IN DYNC metafo!disc-cname
failoid-test 300/10  IN DYNA metafo!disc-failoid
