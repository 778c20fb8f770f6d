package netsensor

// ForceCompat makes s load the build for kernels older than the default
// build needs.
func ForceCompat(s *Sensor) { s.forceCompat = true }

// RunsCompat says whether s loaded the compat build.
func RunsCompat(s *Sensor) bool { return s.compat }

// DefaultBuildRuns says whether this kernel can run the default build.
var DefaultBuildRuns = defaultBuildRuns
