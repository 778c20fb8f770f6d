package partition

import "hash/fnv"

// Of is the partition, of n, of the group of rule whose by-key values,
// joined by NUL bytes, are key. Every collector computes the same.
func Of(rule string, key []byte, n int) int {
	if n <= 1 {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(rule))
	h.Write([]byte{0})
	h.Write(key)
	return int(h.Sum64() % uint64(n))
}
