package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
)

// OpBatch is an entry that chains rows inserted together: its rows column
// lists each row's key and digest, and its digest is the last link of that
// list, so one entry per batch holds what one entry per row held.
const OpBatch = "batch"

// batchRow is one row of a batch entry: its key (rowKey), the digest of
// its columns, and the link that chains it to the rows listed before it.
type batchRow struct {
	key    string
	digest [32]byte
	link   [32]byte
}

// batchLink is SHA-256 of the previous row's link, the row's key and its
// digest: a list edited in the middle breaks at the row edited, which
// verify then names.
func batchLink(prev [32]byte, key string, digest [32]byte) [32]byte {
	b := make([]byte, 0, 32+binary.MaxVarintLen64+len(key)+32)
	b = append(b, prev[:]...)
	b = append(binary.AppendUvarint(b, uint64(len(key))), key...)
	b = append(b, digest[:]...)
	return sha256.Sum256(b)
}

// batchList gathers the rows of one batch entry as they are stored.
type batchList struct {
	tbl   string
	first string
	last  string
	link  [32]byte
	buf   []byte
	n     int
}

func (l *batchList) add(key string, digest [32]byte) {
	if l.n == 0 {
		l.first = key
	}
	l.last, l.n = key, l.n+1
	l.link = batchLink(l.link, key, digest)
	l.buf = append(binary.AppendUvarint(l.buf, uint64(len(key))), key...)
	l.buf = append(append(l.buf, digest[:]...), l.link[:]...)
}

// row is what the entry's row column says: the first and last key listed.
func (l *batchList) row() string {
	if l.first == l.last {
		return l.first
	}
	return l.first + ".." + l.last
}

var errBatchList = errors.New("the list of rows is cut short")

// decodeBatch reads a batch entry's list of rows.
func decodeBatch(list []byte) ([]batchRow, error) {
	var out []batchRow
	for len(list) > 0 {
		n, w := binary.Uvarint(list)
		if w <= 0 || uint64(len(list)-w) < n+64 {
			return out, fmt.Errorf("reading row %d of the list: %w", len(out)+1, errBatchList)
		}
		r := batchRow{key: string(list[w : w+int(n)])}
		list = list[w+int(n):]
		copy(r.digest[:], list[:32])
		copy(r.link[:], list[32:64])
		list = list[64:]
		out = append(out, r)
	}
	return out, nil
}

// checkBatch walks a batch entry's links: bad is the index of the first
// row whose link does not follow from the rows before it (-1: none), and
// whole says whether the last link is the entry's digest.
func checkBatch(rows []batchRow, digest []byte) (bad int, whole bool) {
	bad = -1
	var prev [32]byte
	for i, r := range rows {
		if want := batchLink(prev, r.key, r.digest); bad < 0 && want != r.link {
			bad = i
		}
		// Carry on from the stored link, so one change is one finding.
		prev = r.link
	}
	return bad, len(rows) > 0 && bytes.Equal(prev[:], digest)
}
