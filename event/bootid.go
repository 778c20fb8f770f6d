package event

import (
	"crypto/rand"
	"encoding/hex"
)

// NewBootID names one run of an agent: its events' Seq counts from 1 under
// it. Sixteen random hex digits.
func NewBootID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails on Linux (crypto/rand panics instead)
	return hex.EncodeToString(b[:])
}
