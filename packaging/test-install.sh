#!/usr/bin/env bash
# Installs the vigil .deb packages on this machine with dpkg and checks them
# as an administrator would: the agent runs from its installed path, files
# have the right modes and owners, an upgrade and a removal keep the
# configuration, removal takes the binaries, purge takes the rest. Used by
# CI; needs root and dpkg. Leaves the machine as it found it: an existing
# /etc/vigil or /var/lib/vigil is moved aside and put back.
#
#   packaging/test-install.sh [DIST_DIR]     (default: dist)
set -uo pipefail

dist=${1:-dist}
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $*"; }
bad() { failed=$((failed + 1)); echo "FAIL $*"; }
check() { # check DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@" >/dev/null 2>&1; then ok "$what"; else bad "$what"; fi
}
# mode PATH MODE OWNER:GROUP
mode() {
	local got
	got=$(stat -c '%a %U:%G' "$1" 2>/dev/null) || {
		bad "$1 exists"
		return
	}
	if [ "$got" = "$2 $3" ]; then ok "$1 is $2 $3"; else bad "$1 is $got, want $2 $3"; fi
}
# docs NAME: the man pages and shell completions the package installs for
# binary NAME exist, are not empty, parse, and man finds the page.
docs() {
	local b=$1 f
	for f in /usr/share/bash-completion/completions/$b \
		/usr/share/zsh/vendor-completions/_$b /usr/share/fish/vendor_completions.d/$b.fish; do
		check "$f installed and not empty" test -s "$f"
	done
	# Slim container images tell dpkg not to install man pages at all.
	if grep -qrs '^path-exclude=*/usr/share/man' /etc/dpkg/dpkg.cfg.d/; then
		echo "test-install: dpkg here excludes /usr/share/man; not checking $b's man pages"
		return
	fi
	check "/usr/share/man/man1/$b.1 installed and not empty" test -s /usr/share/man/man1/$b.1
	check "the bash completion of $b parses (bash -n)" bash -n /usr/share/bash-completion/completions/$b
	check "the bash completion of $b completes $b's subcommands" bash -c \
		"source /usr/share/bash-completion/completions/$b && complete -p $b | grep -q __start_$b"
	if command -v zsh >/dev/null; then check "the zsh completion of $b parses (zsh -n)" zsh -n /usr/share/zsh/vendor-completions/_$b; fi
	if command -v fish >/dev/null; then check "the fish completion of $b parses (fish -n)" fish -n /usr/share/fish/vendor_completions.d/$b.fish; fi
	check "$b.1 is a man page (.TH)" grep -q '^\.TH ' /usr/share/man/man1/$b.1
	check "$b's subcommands have man pages ($b-version.1)" test -s /usr/share/man/man1/$b-version.1
	if command -v man >/dev/null; then
		check "man $b shows the page" sh -c "MANPAGER=cat man $b 2>/dev/null | grep -q 'SYNOPSIS'"
	else
		echo "test-install: no man here; checked $b.1 by its .TH line only"
	fi
}
finish() {
	echo "test-install: $passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}

if [ "$(id -u)" -ne 0 ] || ! command -v dpkg >/dev/null; then
	echo "test-install: needs root and dpkg; skipping"
	exit 0
fi
shopt -s nullglob
agent_debs=("$dist"/vigil-agent_*.deb)
if [ ${#agent_debs[@]} -ne 1 ]; then
	echo "test-install: want exactly one $dist/vigil-agent_*.deb, found ${#agent_debs[@]} (run make package)"
	exit 1
fi
agent_deb=${agent_debs[0]}
for p in vigil-agent vigil-collector vigil-cli; do
	if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q installed; then
		echo "test-install: $p is already installed here; not touching it"
		exit 1
	fi
done

# Keep what a developer's runs left behind.
aside=$(mktemp -d /var/tmp/vigil-test-install.XXXXXX)
for d in /etc/vigil /var/lib/vigil /var/lib/vigil-collector; do
	[ -e "$d" ] && mkdir -p "$aside$(dirname "$d")" && mv "$d" "$aside$d"
done
had_user=no
getent passwd vigil >/dev/null && had_user=yes
restore() {
	dpkg --purge vigil-agent vigil-collector vigil-cli >/dev/null 2>&1
	for d in /etc/vigil /var/lib/vigil /var/lib/vigil-collector; do
		rm -rf "$d" # what purge leaves on purpose (collector evidence)
		[ -e "$aside$d" ] && mv "$aside$d" "$d"
	done
	rm -rf "$aside"
	# The package keeps its user on purge; the test does not.
	if [ "$had_user" = no ] && getent passwd vigil >/dev/null; then
		userdel vigil 2>/dev/null
		getent group vigil >/dev/null && groupdel vigil 2>/dev/null
	fi
}
trap restore EXIT

echo "== install $agent_deb"
if dpkg -i "$agent_deb"; then ok "dpkg -i vigil-agent"; else bad "dpkg -i vigil-agent"; fi

check "vigil-agent --version runs" /usr/bin/vigil-agent --version
version=$(/usr/bin/vigil-agent --version 2>&1)
case "$version" in vigil-agent\ *) ok "version: $version" ;; *) bad "version printed: $version" ;; esac
# Freshly installed, the agent is not enrolled yet: preflight must fail and
# say so, with the fix, rather than let a service start that reports nowhere.
if out=$(/usr/bin/vigil-agent preflight 2>&1); then bad "preflight passed before enrolment: $out"; else ok "preflight fails before enrolment"; fi
echo "$out" | sed 's/^/     /'
check "preflight reports the process sensor" grep -q "sensor process" <<<"$out"
check "preflight names the missing collector block" grep -q "FAIL collector block" <<<"$out"
check "preflight gives the fix" grep -q "fix: add a collector block" <<<"$out"
check "the shipped rule pack compiles" grep -q "^ok   host rules" <<<"$out"
check "vigil-agent --help explains the commands" sh -c '/usr/bin/vigil-agent --help | grep -q preflight'
check "vigil-agent help run shows run's flags" sh -c '/usr/bin/vigil-agent help run | grep -q -- --stdout'
docs vigil-agent

mode /usr/bin/vigil-agent 755 root:root
for d in README deploy rules events; do mode /usr/share/doc/vigil-agent/$d.md 644 root:root; done
mode /usr/lib/systemd/system/vigil-agent.service 644 root:root
mode /etc/vigil 755 root:root
mode /etc/vigil/agent.hcl 640 root:root
mode /etc/vigil/rules 755 root:root
rules=(/etc/vigil/rules/*.hcl)
if [ ${#rules[@]} -gt 0 ]; then ok "rule pack installed (${#rules[@]} files)"; else bad "rule pack installed"; fi
for r in "${rules[@]}"; do mode "$r" 644 root:root; done
mode /var/lib/vigil 700 root:root
mode /var/lib/vigil/spool 700 root:root
conffiles=$(dpkg-query -W -f='${Conffiles}' vigil-agent)
check "agent.hcl is a conffile" grep -q "/etc/vigil/agent.hcl " <<<"$conffiles"
check "the rule pack is conffiles" grep -q "/etc/vigil/rules/" <<<"$conffiles"
out=$(/usr/bin/vigil-agent preflight --config /etc/vigil/agent.hcl 2>&1)
check "the installed agent.hcl loads" grep -q "^ok   config" <<<"$out"
# Unenrolled, the service refuses to start instead of writing every event
# to the journal.
if out=$(timeout 20 /usr/bin/vigil-agent run --config /etc/vigil/agent.hcl 2>&1); then bad "an unenrolled agent ran"; else ok "an unenrolled agent refuses to run"; fi
check "and says it has no collector block" grep -q "no collector block" <<<"$out"

# A local edit survives an upgrade (here: reinstalling) and a removal.
echo "# local edit by test-install" >>/etc/vigil/agent.hcl
if dpkg -i "$agent_deb" >/dev/null; then ok "reinstall over a local edit"; else bad "reinstall over a local edit"; fi
check "upgrade keeps the edited agent.hcl" grep -q "local edit by test-install" /etc/vigil/agent.hcl

echo "== remove vigil-agent"
if dpkg -r vigil-agent; then ok "dpkg -r vigil-agent"; else bad "dpkg -r vigil-agent"; fi
check "binary gone after remove" test ! -e /usr/bin/vigil-agent
check "unit gone after remove" test ! -e /usr/lib/systemd/system/vigil-agent.service
check "agent.hcl kept after remove" grep -q "local edit by test-install" /etc/vigil/agent.hcl
check "rule pack kept after remove" test -n "$(ls /etc/vigil/rules/*.hcl 2>/dev/null)"
check "package left in config-files state" sh -c "dpkg-query -W -f='\${Status}' vigil-agent | grep -q config-files"

# The enrolled secret, copied in by hand as docs/deploy.md says.
printf -- '-----BEGIN USER NKEY SEED-----\nSU...\n------END USER NKEY SEED------\n' >/etc/vigil/agent.nk
printf 'site = "leeds"\nagent_id = "ws-a"\nseed = "SU..."\n' >/etc/vigil/agent.creds
chmod 600 /etc/vigil/agent.nk /etc/vigil/agent.creds
echo "== purge vigil-agent"
if dpkg -P vigil-agent; then ok "dpkg -P vigil-agent"; else bad "dpkg -P vigil-agent"; fi
check "agent.hcl gone after purge" test ! -e /etc/vigil/agent.hcl
check "state gone after purge" test ! -e /var/lib/vigil
check "the agent's secret seed gone after purge" test ! -e /etc/vigil/agent.nk
check "an older release's credentials gone after purge" test ! -e /etc/vigil/agent.creds
check "package unknown after purge" sh -c "! dpkg-query -W -f='\${Status}' vigil-agent 2>/dev/null | grep -q installed"

collector_debs=("$dist"/vigil-collector_*.deb)
if [ ${#collector_debs[@]} -eq 1 ]; then
	echo "== install ${collector_debs[0]}"
	if dpkg -i "${collector_debs[0]}"; then ok "dpkg -i vigil-collector"; else bad "dpkg -i vigil-collector"; fi
	check "user vigil exists" getent passwd vigil
	check "user vigil has no login shell" sh -c 'getent passwd vigil | grep -q nologin'
	mode /usr/bin/vigil-collector 755 root:root
	mode /etc/vigil/collector.hcl 640 root:vigil
	mode /etc/vigil/collector.env 640 root:vigil
	mode /etc/vigil/collector-credentials 700 vigil:vigil
	mode /var/lib/vigil-collector 750 vigil:vigil
	mode /var/lib/vigil-collector/agents 700 vigil:vigil
	check "vigil-collector version runs" /usr/bin/vigil-collector version
	check "the unit runs the collector with collector.hcl" grep -q -- '--config /etc/vigil/collector.hcl' /usr/lib/systemd/system/vigil-collector.service
	check "the shipped collector.hcl is accepted" /usr/bin/vigil-collector run --config /etc/vigil/collector.hcl --check
	docs vigil-collector
	mode /usr/lib/systemd/system/vigil-collector.service 644 root:root
	if dpkg -r vigil-collector; then ok "dpkg -r vigil-collector"; else bad "dpkg -r vigil-collector"; fi
	check "collector binary gone after remove" test ! -e /usr/bin/vigil-collector
	check "collector.env kept after remove" test -f /etc/vigil/collector.env
	check "collector.hcl kept after remove" test -f /etc/vigil/collector.hcl
	if dpkg -P vigil-collector; then ok "dpkg -P vigil-collector"; else bad "dpkg -P vigil-collector"; fi
	check "collector.env gone after purge" test ! -e /etc/vigil/collector.env
	check "collector.hcl gone after purge" test ! -e /etc/vigil/collector.hcl
else
	echo "test-install: no $dist/vigil-collector_*.deb (collector not built yet); skipping its checks"
fi

cli_debs=("$dist"/vigil-cli_*.deb)
if [ ${#cli_debs[@]} -eq 1 ]; then
	echo "== install ${cli_debs[0]}"
	if dpkg -i "${cli_debs[0]}"; then ok "dpkg -i vigil-cli"; else bad "dpkg -i vigil-cli"; fi
	mode /usr/bin/vigil 755 root:root
	check "vigil version runs" /usr/bin/vigil version
	docs vigil
	for d in rules events deploy; do mode /usr/share/doc/vigil-cli/$d.md 644 root:root; done
	if dpkg -P vigil-cli; then ok "dpkg -P vigil-cli"; else bad "dpkg -P vigil-cli"; fi
	check "vigil gone after purge" test ! -e /usr/bin/vigil
	check "vigil's man page gone after purge" test ! -e /usr/share/man/man1/vigil.1
	check "vigil's bash completion gone after purge" test ! -e /usr/share/bash-completion/completions/vigil
fi

# The rpm cannot be installed on Debian, but rpm can read it back.
agent_rpms=("$dist"/vigil-agent-*.rpm)
if command -v rpm >/dev/null && [ ${#agent_rpms[@]} -eq 1 ]; then
	echo "== read ${agent_rpms[0]} with rpm"
	listing=$(rpm -qp --qf '[%{FILEMODES:perms} %{FILEUSERNAME}:%{FILEGROUPNAME} %{FILEFLAGS:fflags} %{FILENAMES}\n]' "${agent_rpms[0]}" 2>&1)
	check "rpm: agent.hcl is %config(noreplace), 0640 root" grep -qx -- '-rw-r----- root:root cn /etc/vigil/agent.hcl' <<<"$listing"
	check "rpm: the rule pack is %config(noreplace)" grep -q -- '-rw-r--r-- root:root cn /etc/vigil/rules/' <<<"$listing"
	check "rpm: /usr/bin/vigil-agent 0755 root" grep -qx -- '-rwxr-xr-x root:root  /usr/bin/vigil-agent' <<<"$listing"
	check "rpm: /var/lib/vigil 0700 root" grep -qx -- 'drwx------ root:root  /var/lib/vigil' <<<"$listing"
	check "rpm: /var/lib/vigil/spool 0700 root" grep -qx -- 'drwx------ root:root  /var/lib/vigil/spool' <<<"$listing"
	scripts=$(rpm -qp --scripts "${agent_rpms[0]}" 2>&1)
	check "rpm: %post script" grep -q "^postinstall scriptlet" <<<"$scripts"
	check "rpm: %preun script" grep -q "^preuninstall scriptlet" <<<"$scripts"
else
	echo "test-install: rpm not installed or no $dist/vigil-agent-*.rpm; not reading the rpm"
fi

# All three together, run as their units say, with an agent enrolled.
. "$(dirname "$0")/test-run-packaged.sh"

finish
