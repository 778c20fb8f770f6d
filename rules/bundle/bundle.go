package bundle

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/vigilhq/vigil/event"
	"github.com/vigilhq/vigil/rules"
)

// AllSites is the site of a bundle every site runs unless a newer bundle of
// its own replaces it.
const AllSites = "*"

// Format is the bundle format this package writes and reads.
const Format = 1

// MaxSize bounds a signed bundle: it fits in one NATS message (the
// collector's server takes 1 MiB), and a peer cannot make an agent decode
// an unbounded document.
const MaxSize = 512 << 10

// signedPrefix separates bundle signatures from any other use of the key.
const signedPrefix = "vigil rule bundle v1\n"

// Bundle is what is signed.
type Bundle struct {
	Format    int       `json:"format"`
	Site      string    `json:"site"`
	Version   uint64    `json:"version"`
	Published time.Time `json:"published"`
	// Hash is the rules.Set.Hash of Files, checked again on receipt.
	Hash  string `json:"hash"`
	Files []File `json:"files"`
}

// File is one rule file of a bundle.
type File struct {
	Name string `json:"name"`
	Data []byte `json:"data"`
}

// Signed is a bundle as it travels: the exact bytes signed, and the
// signature over them.
type Signed struct {
	Payload   []byte `json:"payload"`
	Signature []byte `json:"signature"`
}

// Refusal errors; Verify wraps one of them with the detail.
var (
	ErrMalformed = errors.New("bundle is malformed")
	ErrUnsigned  = errors.New("bundle is unsigned")
	ErrSignature = errors.New("bundle signature does not verify with the pinned key")
	ErrSite      = errors.New("bundle is for another site")
	ErrRollback  = errors.New("bundle is not newer than the one running")
	ErrRules     = errors.New("bundle rules do not compile")
)

// Sources are the bundle's files as the rules loader takes them.
func (b *Bundle) Sources() []rules.Source {
	out := make([]rules.Source, len(b.Files))
	for i, f := range b.Files {
		out[i] = rules.Source{Name: f.Name, Data: f.Data}
	}
	return out
}

// New makes the bundle of set for site at version.
func New(site string, version uint64, set *rules.Set, now time.Time) (*Bundle, error) {
	if site != AllSites && !event.ValidToken(site) {
		return nil, fmt.Errorf("making a rule bundle: site %q: use letters, digits, '-' and '_', or %q for every site", site, AllSites)
	}
	if version == 0 {
		return nil, errors.New("making a rule bundle: versions start at 1")
	}
	b := &Bundle{Format: Format, Site: site, Version: version, Published: now.UTC(), Hash: set.Hash()}
	seen := map[string]string{}
	for _, s := range set.Sources() {
		// The publisher's directories mean nothing on the agents.
		name := path.Base(s.Name)
		if other, dup := seen[name]; dup {
			return nil, fmt.Errorf("making a rule bundle: %s and %s have the same name; rename one", other, s.Name)
		}
		seen[name] = s.Name
		b.Files = append(b.Files, File{Name: name, Data: s.Data})
	}
	return b, nil
}

// Sign signs b with key and returns the bundle as it travels.
func Sign(key ed25519.PrivateKey, b *Bundle) ([]byte, error) {
	if len(key) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("signing a rule bundle: the key is %d bytes, not an ed25519 private key", len(key))
	}
	payload, err := json.Marshal(b)
	if err != nil {
		return nil, fmt.Errorf("signing a rule bundle: %w", err)
	}
	out, err := json.Marshal(Signed{Payload: payload, Signature: ed25519.Sign(key, signed(payload))})
	if err != nil {
		return nil, fmt.Errorf("signing a rule bundle: %w", err)
	}
	if len(out) > MaxSize {
		return nil, fmt.Errorf("signing a rule bundle: it is %d bytes, over the %d a bundle may take", len(out), MaxSize)
	}
	return out, nil
}

func signed(payload []byte) []byte {
	return append([]byte(signedPrefix), payload...)
}

// Verify checks data against the pinned key and returns the bundle, which
// must be for site (or every site) and compile. It does not know which
// version runs: Newer is the caller's check.
func Verify(pub ed25519.PublicKey, site string, data []byte) (*Bundle, *rules.Set, error) {
	if len(pub) != ed25519.PublicKeySize {
		return nil, nil, fmt.Errorf("verifying a rule bundle: no pinned key (%d bytes)", len(pub))
	}
	if len(data) > MaxSize {
		return nil, nil, fmt.Errorf("%w: %d bytes, over the %d a bundle may take", ErrMalformed, len(data), MaxSize)
	}
	var s Signed
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if len(s.Payload) == 0 {
		return nil, nil, fmt.Errorf("%w: no payload", ErrMalformed)
	}
	if len(s.Signature) == 0 {
		return nil, nil, ErrUnsigned
	}
	if !ed25519.Verify(pub, signed(s.Payload), s.Signature) {
		return nil, nil, ErrSignature
	}
	var b Bundle
	if err := json.Unmarshal(s.Payload, &b); err != nil {
		return nil, nil, fmt.Errorf("%w: signed payload: %v", ErrMalformed, err)
	}
	if b.Format != Format {
		return nil, nil, fmt.Errorf("%w: format %d, this agent reads format %d", ErrMalformed, b.Format, Format)
	}
	if b.Version == 0 {
		return nil, nil, fmt.Errorf("%w: version 0", ErrMalformed)
	}
	if b.Site != AllSites && b.Site != site {
		return &b, nil, fmt.Errorf("%w: version %d is for site %q, this agent is at %q", ErrSite, b.Version, b.Site, site)
	}
	set, diags := rules.Load(b.Sources()...)
	if diags.HasErrors() {
		return &b, nil, fmt.Errorf("%w: version %d: %v", ErrRules, b.Version, diags)
	}
	if set.Hash() != b.Hash {
		return &b, nil, fmt.Errorf("%w: version %d hashes to %s, not the %s signed", ErrMalformed, b.Version, set.Hash(), b.Hash)
	}
	return &b, set, nil
}

// Newer checks that b may replace the bundle of version running (0: none).
func Newer(b *Bundle, running uint64) error {
	if b.Version <= running {
		return fmt.Errorf("%w: version %d offered, %d runs", ErrRollback, b.Version, running)
	}
	return nil
}

// keyPrefix names the kind of key in its text form.
const keyPrefix = "ed25519:"

// EncodePublicKey is the text form of a public key, as enrolment pins it.
func EncodePublicKey(pub ed25519.PublicKey) string {
	return keyPrefix + base64.StdEncoding.EncodeToString(pub)
}

// ParsePublicKey reads EncodePublicKey's form.
func ParsePublicKey(s string) (ed25519.PublicKey, error) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(s), keyPrefix)
	if !ok {
		return nil, fmt.Errorf("reading the rule bundle key %q: it does not start with %q", s, keyPrefix)
	}
	b, err := base64.StdEncoding.DecodeString(rest)
	if err != nil {
		return nil, fmt.Errorf("reading the rule bundle key %q: %w", s, err)
	}
	if len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("reading the rule bundle key %q: %d bytes, an ed25519 key has %d", s, len(b), ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(b), nil
}

// Digest is the SHA-256 (hex) of a signed bundle's bytes as served: what an
// agent reports of the bundle it runs and the collector checks against the
// one it published under that version.
func Digest(signed []byte) string {
	sum := sha256.Sum256(signed)
	return hex.EncodeToString(sum[:])
}
