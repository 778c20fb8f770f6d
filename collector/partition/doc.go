// Package partition shares the correlation rules' groups among the live
// collectors: a group belongs to one of a fixed number of partitions (Of),
// and each partition to one collector at a time, by a lease in a
// JetStream key-value bucket that expires when its owner stops renewing it.
// The live collectors take equal shares; when one dies its partitions
// expire and move to the others, which resume each from the progress its
// last owner saved.
package partition
