package db

import "github.com/vigilhq/vigil/agent/sensor"

// Builds is s's choice between its default build and the one for kernels
// without bpf_rdonly_cast.
func Builds(s *Sensor) *sensor.Builds { return &s.build }

// HaveRdonlyCast says whether this kernel can run the default build.
var HaveRdonlyCast = haveRdonlyCast
