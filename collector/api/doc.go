// Package api serves the SOC over HTTP: alerts with their evidence, agents,
// loss and OCSF findings as JSON, and Prometheus metrics. A bad query
// parameter is answered 400 with {"error": "..."} saying what to send.
//
//	GET /api/alerts?site=&host=&person=&severity=&rule=&agent_id=&since=&limit=
//	GET /api/alerts?after=N&wait=30s   alerts stored after N, oldest first, waiting for one
//	GET /api/alerts/{id}               one alert with its evidence events
//	GET /api/agents                    agents with their last heartbeat and liveness status
//	GET /api/loss?agent_id=            loss records
//	GET /api/ocsf?after=N&limit=       alerts as OCSF Detection Findings, JSON lines
//	GET /metrics                       Prometheus
//	GET /healthz                       "ok"
package api
