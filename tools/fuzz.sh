#!/usr/bin/env bash
# Runs every Fuzz target in PKGS (default ./...) for FUZZTIME each (default
# 10s): go test -fuzz takes one target of one package at a time, so this
# lists them with go test -list and runs them one by one. A target that
# fails leaves its input in the package's testdata/fuzz; commit it as a
# regression case. Run by `make fuzz`.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
FUZZTIME=${FUZZTIME:-10s}
PKGS=${PKGS:-./...}

list=$(mktemp)
trap 'rm -f "$list"' EXIT
# PKGS unquoted: a list of patterns
if ! $GO test -list '^Fuzz' $PKGS >"$list" 2>&1; then
	cat "$list"
	exit 1
fi
# go test -list prints a package's matching names, then "ok <package>".
targets=$(awk '/^Fuzz/ { names = names " " $1; next }
	/^ok / { if (names != "") print $2 names; names = "" }' "$list")
if [ -z "$targets" ]; then
	echo "fuzz: no Fuzz targets in $PKGS"
	exit 1
fi

n=0
failed=()
while read -r pkg names; do
	for name in $names; do
		n=$((n + 1))
		echo "== $pkg $name ($FUZZTIME)"
		if ! $GO test -run '^$' -fuzz "^$name\$" -fuzztime "$FUZZTIME" "$pkg"; then
			failed+=("$pkg $name")
		fi
	done
done <<<"$targets"

if [ "${#failed[@]}" -ne 0 ]; then
	echo "fuzz: ${#failed[@]} of $n targets failed:"
	printf '  %s\n' "${failed[@]}"
	exit 1
fi
echo "fuzz: $n targets ran $FUZZTIME each without a failure"
