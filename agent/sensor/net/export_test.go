package netsensor

import (
	"github.com/cilium/ebpf"

	"github.com/vigilhq/vigil/agent/sensor"
)

// Builds is s's choice between its default build and the one for kernels
// older than the default build needs.
func Builds(s *Sensor) *sensor.Builds { return &s.build }

// DefaultBuildRuns says whether this kernel can run the default build.
var DefaultBuildRuns = defaultBuildRuns

// Programs are s's cgroup_skb programs, which run on every UDP packet.
func Programs(s *Sensor) (egress, ingress *ebpf.Program) { return s.objs.UdpEgress, s.objs.DnsIngress }

// Malformed is how many answers s's Decode could not read.
func Malformed(s *Sensor) uint64 { return s.malformed.Load() }
