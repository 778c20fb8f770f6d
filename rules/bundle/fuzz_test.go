package bundle

import (
	"crypto/ed25519"
	"testing"
)

// FuzzVerify feeds Verify what a peer could put in the bucket: it never
// panics, and accepts only a bundle signed with the key, for the site,
// whose rules compile to the hash signed.
func FuzzVerify(f *testing.F) {
	seed := make([]byte, ed25519.SeedSize)
	key := ed25519.NewKeyFromSeed(seed)
	pub := key.Public().(ed25519.PublicKey)
	f.Add(signedBundle(f, key, "lisbon", 1))
	f.Add(signedBundle(f, key, AllSites, 2))
	f.Add([]byte(`{"payload":"e30=","signature":"AAAA"}`))
	f.Add([]byte(`{"payload":"","signature":""}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, set, err := Verify(pub, "lisbon", data)
		if err != nil {
			if set != nil {
				t.Fatalf("a refused bundle came with a rule set: %v", err)
			}
			return
		}
		if set == nil || set.Hash() != b.Hash || (b.Site != "lisbon" && b.Site != AllSites) || b.Version == 0 {
			t.Fatalf("accepted %+v with set %v", b, set)
		}
	})
}
