# Sourced by test-install.sh (its helpers and its restore trap): installs the
# three packages together and runs them as their systemd units say, the
# collector as user vigil with no capabilities, the agent as root with only
# the unit's capability bounding set, each by the unit's ExecStart, with no
# new privileges. The agent is enrolled exactly as docs/deploy.md says; its
# heartbeat and an alert must reach the collector; purge must leave no secret.
# This machine has no systemd as init, so the rest of the units' sandbox
# (ProtectSystem, the system call filter, private /tmp) is not applied here.

collector_debs=("$dist"/vigil-collector_*.deb)
cli_debs=("$dist"/vigil-cli_*.deb)
if [ ${#collector_debs[@]} -ne 1 ] || [ ${#cli_debs[@]} -ne 1 ]; then
	bad "run as packaged: want one collector and one cli .deb in $dist"
	return
fi
echo "== run the packages as their units say"
if dpkg -i "$agent_deb" "${collector_debs[0]}" "${cli_debs[0]}" >/dev/null; then
	ok "dpkg -i all three"
else
	bad "dpkg -i all three"
	return
fi

# unit_value UNIT KEY: the value of KEY= in a unit file, variables dropped
# (collector.env sets none).
unit_value() { sed -n "s/^$2=//p" "/usr/lib/systemd/system/$1" | sed 's/\$[A-Z_]*//g'; }
# setpriv_caps UNIT: the unit's CapabilityBoundingSet as setpriv's list.
setpriv_caps() {
	local list=-all c
	for c in $(unit_value "$1" CapabilityBoundingSet); do
		c=${c#CAP_}
		list+=",+${c,,}"
	done
	echo "$list"
}
# until_ok TRIES PID COMMAND...: runs COMMAND every 0.2 s until it succeeds
# (0), TRIES have failed, or process PID (0: none) has ended (1).
until_ok() {
	local tries=$1 pid=$2 i
	shift 2
	for ((i = 0; i < tries; i++)); do
		"$@" && return 0
		if [ "$pid" != 0 ] && ! kill -0 "$pid" 2>/dev/null; then return 1; fi
		sleep 0.2
	done
	return 1
}
run_dir=$(mktemp -d /var/tmp/vigil-run-packaged.XXXXXX)
pids=()
stop_packaged() {
	local p
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	pids=()
}

# The collector, as vigil-collector.service starts it.
read -r -a exec_collector <<<"$(unit_value vigil-collector.service ExecStart)"
user=$(unit_value vigil-collector.service User)
group=$(unit_value vigil-collector.service Group)
check "the collector's unit runs it as vigil" test "$user:$group" = "vigil:vigil"
setpriv --reuid "$user" --regid "$group" --init-groups --bounding-set "$(setpriv_caps vigil-collector.service)" \
	--inh-caps -all --no-new-privs -- "${exec_collector[@]}" >"$run_dir/collector.log" 2>&1 &
pids+=($!)
if until_ok 100 "${pids[0]}" curl -fsS -o /dev/null http://127.0.0.1:8080/healthz 2>/dev/null; then ok "the collector runs as vigil and answers /healthz"; else
	bad "the collector runs as vigil and answers /healthz"
	sed 's/^/     /' "$run_dir/collector.log"
	stop_packaged
	return
fi
check "the collector process has no capabilities" sh -c "grep -q '^CapEff:\s*0000000000000000' /proc/${pids[0]}/status"

# Enrolment as docs/deploy.md gives it, run as root on the collector host.
if printed=$(vigil enrol --data /var/lib/vigil-collector --site leeds --host ws-pkg --out /etc/vigil/agent.nk 2>&1); then
	ok "vigil enrol as root"
else
	bad "vigil enrol as root: $printed"
fi
mode /etc/vigil/agent.nk 600 root:root
agent_id=$(sed -n 's/^agent_id *= *"\(.*\)".*/\1/p' <<<"$printed" | head -1)
check "enrol printed the agent's id" test -n "$agent_id"
# What enrol printed replaces the shipped site, then the collector block.
sed -i '/^site *=/d' /etc/vigil/agent.hcl
{
	grep -E '^(site|host|agent_id) *=' <<<"$printed"
	printf 'collector {\n  url   = "nats://127.0.0.1:4222"\n  creds = "/etc/vigil/agent.nk"\n}\n'
} >>/etc/vigil/agent.hcl
# The running collector takes a new record within a second or so.
preflight() { out=$(/usr/bin/vigil-agent preflight --config /etc/vigil/agent.hcl 2>&1); }
if until_ok 50 0 preflight; then ok "preflight passes once enrolled"; else
	bad "preflight passes once enrolled"
	sed 's/^/     /' <<<"$out"
fi

# The agent, as vigil-agent.service starts it.
read -r -a exec_agent <<<"$(unit_value vigil-agent.service ExecStart)"
check "the agent's unit runs it as root" test "$(unit_value vigil-agent.service User)" = root
setpriv --bounding-set "$(setpriv_caps vigil-agent.service)" --inh-caps -all --no-new-privs -- \
	"${exec_agent[@]}" >"$run_dir/agent.log" 2>&1 &
pids+=($!)

token=/var/lib/vigil-collector/api-token
listed() { vigil "$@" --token-file "$token" 2>/dev/null | grep -q ws-pkg; }
if until_ok 150 "${pids[1]}" listed agents list; then ok "the agent's heartbeat reached the collector"; else
	bad "the agent's heartbeat reached the collector"
	sed 's/^/     agent: /' "$run_dir/agent.log" | tail -20
	sed 's/^/     collector: /' "$run_dir/collector.log" | tail -20
fi

# A dump tool run on the workstation: the shipped pack's db_dump_tool.
mkdir -p "$run_dir/bin"
cp /bin/true "$run_dir/bin/pg_dump"
"$run_dir/bin/pg_dump"
if until_ok 150 "${pids[1]}" listed alerts list --rule db_dump_tool; then ok "an alert from the agent reached the collector"; else
	bad "an alert from the agent reached the collector"
	sed 's/^/     agent: /' "$run_dir/agent.log" | tail -20
fi

# The self-check runs at every heartbeat once the sensors are up: the
# canary child must come through every sensor under the unit's capability
# set and no-new-privs, or the packaged agent would report itself blinded.
running() { vigil agents list --token-file "$token" 2>/dev/null | grep ws-pkg | grep -qE '(^|[ ,])process(,| )'; }
if until_ok 150 "${pids[1]}" running; then ok "a heartbeat with the sensors running reached the collector"; else
	bad "a heartbeat with the sensors running reached the collector"
	vigil agents list --token-file "$token" 2>&1 | sed 's/^/     /'
fi
check "the packaged agent finds no probe detached" sh -c "! grep -q 'found detached' '$run_dir/agent.log'"
check "the packaged agent's canary finds no sensor blind" sh -c "! grep -q 'found blind' '$run_dir/agent.log'"
for rule in vigil_sensor_blind vigil_sensor_detached; do
	check "no $rule alert about the packaged agent" sh -c "! vigil alerts list --rule $rule --token-file '$token' 2>&1 | grep -q ws-pkg"
done

stop_packaged
rm -rf "$run_dir"
if dpkg -P vigil-agent vigil-collector vigil-cli >/dev/null; then ok "dpkg -P all three"; else bad "dpkg -P all three"; fi
check "the agent's key gone after purge" test ! -e /etc/vigil/agent.nk
check "no NKey seed left under /etc/vigil" sh -c '! grep -rqs "SEED-----" /etc/vigil'
