#!/usr/bin/env bash
# fuzz.sh runs every Go fuzz target in the module, one at a time, each for
# FUZZTIME (default 30s), and stops at the first failure naming the
# package, the target and the input that broke it (kept under the
# package's testdata/fuzz/TARGET/, where it stays as a regression case
# once committed). FUZZPARALLEL sets the fuzzing processes per target
# (default 1, so a shared machine stays usable). Optional arguments are
# package patterns (default ./...).
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
FUZZTIME=${FUZZTIME:-30s}
FUZZPARALLEL=${FUZZPARALLEL:-1}
[ $# -gt 0 ] || set -- ./...

# Packages with fuzz targets: a Fuzz function in one of their test files.
pkgs=$($GO list -f '{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}} {{.Dir}}{{end}}' "$@" |
	while read -r pkg dir; do
		grep -lq '^func Fuzz' "$dir"/*_test.go 2>/dev/null && echo "$pkg"
	done)

n=0
start=$SECONDS
for pkg in $pkgs; do
	for target in $($GO test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
		n=$((n + 1))
		echo "fuzz: $pkg $target for $FUZZTIME"
		log=$(mktemp)
		if ! $GO test -run '^$' -fuzz "^$target\$" -fuzztime "$FUZZTIME" -parallel "$FUZZPARALLEL" "$pkg" >"$log" 2>&1; then
			crasher=$(sed -n 's/.*Failing input written to \(testdata\/fuzz\/[^ ]*\).*/\1/p' "$log" | head -1)
			# Go before 1.27 may end a clean run with a bare "context
			# deadline exceeded" and no input (go.dev/issue/75804): the
			# coordinator's race at the -fuzztime boundary, not a crash.
			if [ -z "$crasher" ] && grep -q '^    context deadline exceeded$' "$log" && ! grep -q -- '--- FAIL: .*/' "$log"; then
				echo "fuzz: $pkg $target: ended with Go's fuzztime race (context deadline exceeded, no failing input); not a crash"
				rm -f "$log"
				continue
			fi
			cat "$log"
			dir=$($GO list -f '{{.Dir}}' "$pkg")
			echo
			echo "fuzz: FAILED: package $pkg, target $target"
			if [ -n "$crasher" ]; then
				echo "fuzz: crasher: ${dir#"$PWD"/}/$crasher"
				echo "fuzz: reproduce: $GO test -run '^$target/$(basename "$crasher")\$' $pkg"
				echo "fuzz: fix the bug, then commit the crasher as a regression case"
			fi
			rm -f "$log"
			exit 1
		fi
		rm -f "$log"
	done
done
if [ "$n" -eq 0 ]; then
	echo "fuzz: no fuzz targets found in $*" >&2
	exit 1
fi
echo "fuzz: $n targets, $FUZZTIME each, no failure ($((SECONDS - start))s)"
