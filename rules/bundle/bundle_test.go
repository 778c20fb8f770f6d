package bundle

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/vigilhq/vigil/rules"
)

const rule = `rule "dump" {
  severity = "high"
  when     = kind == "process.exec" && process.comm == "pg_dump"
}
`

func signedBundle(t testing.TB, key ed25519.PrivateKey, site string, version uint64) []byte {
	t.Helper()
	set, diags := rules.Load(rules.Source{Name: "dump.hcl", Data: []byte(rule)})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	b, err := New(site, version, set, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	data, err := Sign(key, b)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestSignVerify(t *testing.T) {
	pub, key, _ := ed25519.GenerateKey(nil)
	data := signedBundle(t, key, "lisbon", 7)
	b, set, err := Verify(pub, "lisbon", data)
	if err != nil {
		t.Fatal(err)
	}
	if b.Version != 7 || set.Hash() != b.Hash || len(set.Names()) != 1 {
		t.Fatalf("verified bundle %+v, set %v", b, set.Names())
	}
	if _, _, err := Verify(pub, "porto", signedBundle(t, key, AllSites, 8)); err != nil {
		t.Fatalf("a bundle for every site: %v", err)
	}
	if err := Newer(b, 7); !errors.Is(err, ErrRollback) {
		t.Fatalf("the same version again: %v, want ErrRollback", err)
	}
	if err := Newer(b, 6); err != nil {
		t.Fatal(err)
	}
}

// Each way round the signature an insider with write access to the
// bundle's path could try is refused with its own error.
func TestVerifyRefuses(t *testing.T) {
	pub, key, _ := ed25519.GenerateKey(nil)
	_, other, _ := ed25519.GenerateKey(nil)
	good := signedBundle(t, key, "lisbon", 3)
	var s Signed
	if err := json.Unmarshal(good, &s); err != nil {
		t.Fatal(err)
	}
	flip := func(f func(*Signed)) []byte {
		c := Signed{Payload: bytes.Clone(s.Payload), Signature: bytes.Clone(s.Signature)}
		f(&c)
		out, _ := json.Marshal(c)
		return out
	}
	cases := []struct {
		name string
		data []byte
		want error
	}{
		{"payload byte changed", flip(func(c *Signed) { c.Payload[len(c.Payload)/2] ^= 1 }), ErrSignature},
		{"rules edited", flip(func(c *Signed) { c.Payload = bytes.Replace(c.Payload, []byte(`"version":3`), []byte(`"version":9`), 1) }), ErrSignature},
		{"signature byte changed", flip(func(c *Signed) { c.Signature[0] ^= 1 }), ErrSignature},
		{"signed with another key", signedBundle(t, other, "lisbon", 3), ErrSignature},
		{"unsigned", flip(func(c *Signed) { c.Signature = nil }), ErrUnsigned},
		{"another site's", signedBundle(t, key, "porto", 4), ErrSite},
		{"not json", []byte("rule \"x\" {}"), ErrMalformed},
		{"too large", make([]byte, MaxSize+1), ErrMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, set, err := Verify(pub, "lisbon", c.data); !errors.Is(err, c.want) || set != nil {
				t.Fatalf("Verify: %v (set %v), want %v", err, set, c.want)
			}
		})
	}
}

// A signed bundle whose rules do not compile is refused too: the signer
// checks them, but an agent never trusts that.
func TestVerifyRefusesRulesThatDoNotCompile(t *testing.T) {
	pub, key, _ := ed25519.GenerateKey(nil)
	b := &Bundle{Format: Format, Site: "lisbon", Version: 2, Files: []File{{Name: "x.hcl", Data: []byte("rule {")}}}
	data, err := Sign(key, b)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := Verify(pub, "lisbon", data); !errors.Is(err, ErrRules) {
		t.Fatalf("Verify: %v, want ErrRules", err)
	}
}

func TestPublicKeyText(t *testing.T) {
	pub, _, _ := ed25519.GenerateKey(nil)
	got, err := ParsePublicKey(EncodePublicKey(pub))
	if err != nil || !got.Equal(pub) {
		t.Fatalf("round trip: %v %v", got, err)
	}
	for _, bad := range []string{"", "ed25519:", "ed25519:!!", "rsa:AAAA", "ed25519:AAAA"} {
		if _, err := ParsePublicKey(bad); err == nil {
			t.Errorf("ParsePublicKey(%q) accepted", bad)
		}
	}
}
