// Package enrich knows what the kernel's records leave out: the table of
// processes (seeded from /proc, so processes older than the agent are
// attributed), user names, which mount a device is and whether it is
// removable or on the network, and the wall time of the kernel's boot-time
// stamps. It also scrubs secrets and literals from command lines. Paths
// says where /proc and /sys are, so tests run it on a fixture tree.
package enrich
