#!/usr/bin/env bash
# Runs the tests of PKGS (default ./...) with TESTFLAGS and a coverage
# profile in COVERPROFILE (default coverage.out), then prints each
# package's statement coverage and the total. Run by `make cover`; read the
# profile with `go tool cover -html=coverage.out`.
set -uo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
PKGS=${PKGS:-./...}
TESTFLAGS=${TESTFLAGS:-}
COVERPROFILE=${COVERPROFILE:-coverage.out}

# TESTFLAGS and PKGS unquoted: lists
$GO test $TESTFLAGS -coverprofile="$COVERPROFILE" $PKGS
rc=$?
if [ ! -s "$COVERPROFILE" ]; then
	echo "cover: no profile written to $COVERPROFILE"
	exit 1
fi

echo
echo "statement coverage by package ($COVERPROFILE):"
# Profile lines: file:start,end statements count. A block listed twice
# (one package's tests covering another's) counts once, covered if either
# run covered it.
awk -v mod="$($GO list -m)/" '
	NR == 1 { next }
	{
		block = $1; stmts[block] = $2
		if ($3 > 0) hit[block] = 1
	}
	END {
		for (b in stmts) {
			pkg = substr(b, 1, index(b, ":") - 1)
			sub(/\/[^\/]*$/, "", pkg)
			if (index(pkg, mod) == 1) pkg = substr(pkg, length(mod) + 1)
			total[pkg] += stmts[b]; all += stmts[b]
			if (b in hit) { covered[pkg] += stmts[b]; allCovered += stmts[b] }
		}
		for (p in total) printf "%6.1f%%  %s\n", 100 * covered[p] / total[p], p | "sort -k2"
		close("sort -k2")
		if (all > 0) printf "%6.1f%%  total (%d of %d statements)\n", 100 * allCovered / all, allCovered, all
	}' "$COVERPROFILE"
exit $rc
