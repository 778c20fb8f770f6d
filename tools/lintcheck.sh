#!/usr/bin/env bash
# Proves that the layering rules in .golangci.yaml fail the lint: copies the
# work tree to a temporary directory, adds one import that each depguard
# rule forbids, and expects golangci-lint to fail naming every rule at its
# file. Run by `make lint-check`.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

git ls-files -z --cached --others --exclude-standard |
	tar --null -T - --ignore-failed-read -cf - 2>/dev/null | tar -C "$tmp" -xf -

# rule|file|package|forbidden import
violations=(
	"event-stdlib-only|event/zz_lintcheck.go|event|github.com/hashicorp/hcl/v2"
	"parsers-do-no-io|agent/redact/zz_lintcheck.go|redact|os"
	"parsers-do-no-io|agent/dbwire/zz_lintcheck.go|dbwire|net"
	"collector-not-agent|collector/ingest/zz_lintcheck.go|ingest|github.com/vigilhq/vigil/agent/redact"
	"only-sensors-load-ebpf|cmd/vigil/zz_lintcheck.go|main|github.com/cilium/ebpf"
	"rules-not-agent-or-collector|rules/zz_lintcheck.go|rules|github.com/vigilhq/vigil/collector/ocsf"
)
pkgs=()
for v in "${violations[@]}"; do
	IFS='|' read -r _ file pkg imp <<<"$v"
	printf 'package %s\n\nimport _ "%s"\n' "$pkg" "$imp" >"$tmp/$file"
	pkgs+=("./$(dirname "$file")/")
done
# Tests may do I/O: the same import in a parser's test file is allowed.
printf 'package redact\n\nimport _ "os"\n' >"$tmp/agent/redact/zz_lintcheck_test.go"

set +e
out=$(cd "$tmp" && $GO tool -modfile=tools/go.mod golangci-lint run --enable-only depguard \
	--max-issues-per-linter 0 --max-same-issues 0 "${pkgs[@]}" 2>&1)
rc=$?
set -e
fail() {
	echo "$out"
	echo "lintcheck: $*"
	exit 1
}
if [ "$rc" -ne 1 ]; then
	fail "golangci-lint exited $rc on the violating imports, want 1 (issues found)"
fi
missing=()
for v in "${violations[@]}"; do
	IFS='|' read -r rule file _ imp <<<"$v"
	if ! grep -q "^$file:.*import '$imp' is not allowed from list '$rule'" <<<"$out"; then
		missing+=("no $rule finding for import $imp in $file")
	fi
done
if grep -q '^agent/redact/zz_lintcheck_test.go' <<<"$out"; then
	missing+=("the parsers' rule reported a test file")
fi
if [ "${#missing[@]}" -ne 0 ]; then
	fail "$(printf '%s; ' "${missing[@]}")"
fi
echo "lintcheck: each depguard rule fails the lint on an import it forbids (${#violations[@]} checked)"
