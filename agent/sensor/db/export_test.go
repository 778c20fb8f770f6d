package db

// ForceCompat makes s load the build for kernels without bpf_rdonly_cast.
func ForceCompat(s *Sensor) { s.forceCompat = true }

// RunsCompat says whether s loaded the build for kernels without
// bpf_rdonly_cast.
func RunsCompat(s *Sensor) bool { return s.compat }

// HaveRdonlyCast says whether this kernel can run the default build.
var HaveRdonlyCast = haveRdonlyCast
