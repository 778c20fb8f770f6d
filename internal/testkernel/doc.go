// Package testkernel holds helpers for tests that load eBPF programs.
package testkernel
