package db

// ForceCompat makes s load the build for kernels without bpf_rdonly_cast.
func ForceCompat(s *Sensor) { s.build.ForceCompat = true }

// RunsCompat says whether s loaded the build for kernels without
// bpf_rdonly_cast.
func RunsCompat(s *Sensor) bool { return s.build.Compat }

// HaveRdonlyCast says whether this kernel can run the default build.
var HaveRdonlyCast = haveRdonlyCast
