package partition

// Share is how many of n partitions each of members live collectors
// should own: the partitions divided evenly, rounded up so none is left
// without an owner.
func Share(n, members int) int {
	if members < 1 {
		members = 1
	}
	return (n + members - 1) / members
}
