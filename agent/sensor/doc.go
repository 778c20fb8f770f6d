// Package sensor runs vigil's eBPF sensors. Every sensor writes its records
// into one shared ring buffer, so the agent reads the kernel's records in the
// order they were produced (an exec before the file writes of the program it
// started). Each sensor lives in a subpackage beside its bpf2go output and
// implements Sensor; this package owns the ring buffer, the reader and the
// loss counters.
package sensor
