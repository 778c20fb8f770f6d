package netsensor

// ForceCompat makes s load the build for kernels older than the default
// build needs.
func ForceCompat(s *Sensor) { s.build.ForceCompat = true }

// RunsCompat says whether s loaded the compat build.
func RunsCompat(s *Sensor) bool { return s.build.Compat }

// DefaultBuildRuns says whether this kernel can run the default build.
var DefaultBuildRuns = defaultBuildRuns
