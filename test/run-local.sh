#!/usr/bin/env bash
# Runs vigil on this machine: the collector with its embedded NATS server,
# an enrolled agent on this host with the default rule pack, and alerts
# shown live. Ctrl-C stops everything. Needs root (eBPF) and bin/ from
# `make build`. State goes in ${VIGIL_RUN_DIR:-/tmp/vigil-run}.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bin=${BIN:-$root/bin}
run=${VIGIL_RUN_DIR:-/tmp/vigil-run}
nats_port=${VIGIL_NATS_PORT:-4222}
http=${VIGIL_HTTP:-127.0.0.1:8080}
packs=$root/rules/packs

for b in vigil-collector vigil-agent vigil; do
	[[ -x $bin/$b ]] || { echo "run-local: $bin/$b missing: run make build" >&2; exit 1; }
done
if [[ $(id -u) != 0 ]]; then
	echo "run-local: the agent loads eBPF programs: run as root (sudo make run)" >&2
	exit 1
fi
mkdir -p "$run"
pids=()
cleanup() {
	for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

host=$(hostname -s)
if [[ ! -f $run/agent.nk ]]; then
	"$bin/vigil" enrol --data "$run/collector" --site local --host "$host" --agent-id "local-agent" --out "$run/agent.nk" >/dev/null
fi
cat >"$run/agent.hcl" <<HCL
site      = "local"
agent_id  = "local-agent"
state_dir = "$run/agent"
rules_dir = "$packs"
collector {
  url       = "nats://127.0.0.1:$nats_port"
  creds     = "$run/agent.nk"
  spool_dir = "$run/agent/spool"
}
HCL

"$bin/vigil-collector" run --data "$run/collector" --nats-listen "127.0.0.1:$nats_port" --http "$http" \
	--rules "$packs" --host-rules "$packs" --ocsf "$run/alerts.ocsf.jsonl" 2>"$run/collector.log" &
pids+=($!)
for _ in $(seq 100); do
	curl -fs "http://$http/healthz" >/dev/null 2>&1 && break
	sleep 0.1
done
"$bin/vigil-agent" run --config "$run/agent.hcl" 2>"$run/agent.log" &
pids+=($!)

# The collector's first start writes an admin API token, which the CLI
# reads through VIGIL_TOKEN_FILE, and the console's first admin with a
# random password, shown here.
export VIGIL_TOKEN_FILE="$run/collector/api-token"
echo "vigil is running: collector API http://$http (metrics at /metrics), NATS 127.0.0.1:$nats_port"
echo "console: http://$http/ — first admin ($run/collector/console-admin):"
sed 's/^/  /' "$run/collector/console-admin"
echo "API token: $VIGIL_TOKEN_FILE (from another terminal: VIGIL_TOKEN_FILE=$VIGIL_TOKEN_FILE bin/vigil alerts list)"
echo "logs: $run/collector.log $run/agent.log; OCSF findings: $run/alerts.ocsf.jsonl"
echo "alerts as they arrive (Ctrl-C stops):"
"$bin/vigil" alerts tail --api "http://$http" --from-start &
pids+=($!)
wait -n "${pids[@]}" || true
