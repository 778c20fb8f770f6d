package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sync"
	"time"
)

// Roles, from least to most.
const (
	// RoleMetrics reads /metrics only: a Prometheus scraper.
	RoleMetrics = "metrics"
	// RoleAnalyst reads alerts, evidence, agents, loss and findings,
	// triages alerts, and reads /metrics.
	RoleAnalyst = "analyst"
	// RoleAdmin may do all an analyst may, and read the audit log and
	// manage people.
	RoleAdmin = "admin"
)

// Roles lists the roles, least first.
var Roles = []string{RoleMetrics, RoleAnalyst, RoleAdmin}

// legacySOC is what analyst tokens were called before people had roles:
// token files written then still work.
const legacySOC = "soc"

// Canonical returns role under its current name.
func Canonical(role string) string {
	if role == legacySOC {
		return RoleAnalyst
	}
	return role
}

// Allows says whether role has at least the rights of need.
func Allows(role, need string) bool {
	role = Canonical(role)
	return slices.Index(Roles, role) >= slices.Index(Roles, need) && slices.Contains(Roles, role)
}

// Files in the data directory.
const (
	TokensFile = "api-tokens.json" // the hashed tokens
	AdminFile  = "api-token"       // the first admin token, in plaintext, mode 0600
)

// Token is one token as stored: its hash, never its text.
type Token struct {
	Name    string    `json:"name"`
	Role    string    `json:"role"`
	Hash    string    `json:"sha256"`
	Created time.Time `json:"created"`
}

var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$`)

// Store holds the tokens of a data directory.
type Store struct {
	path string

	mu     sync.Mutex
	byHash map[string]Token
	stamp  string // the file's size and time when read
	// writing serialises update's read-change-write, so two adds at once
	// in one process do not lose one.
	writing sync.Mutex
}

// Open reads the tokens of dir, making an admin token (in AdminFile) when
// there are none, so a new collector is never open to anyone.
func Open(dir string) (*Store, error) {
	s := &Store{path: filepath.Join(dir, TokensFile)}
	if err := s.reload(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	empty := len(s.byHash) == 0
	s.mu.Unlock()
	if empty {
		text, err := s.Add("admin", RoleAdmin)
		if err != nil {
			return nil, err
		}
		if err := writeSecret(filepath.Join(dir, AdminFile), text); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Check returns the token text names, if it is one.
func (s *Store) Check(text string) (Token, bool) {
	if err := s.reload(); err != nil {
		return Token{}, false
	}
	sum := sha256.Sum256([]byte(text))
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.byHash[hex.EncodeToString(sum[:])]
	return t, ok
}

// Add makes a token named name with role and returns its text, which is
// not kept.
func (s *Store) Add(name, role string) (string, error) {
	if !validName.MatchString(name) {
		return "", fmt.Errorf("token name %q: use letters, digits, '.', '_', '@' or '-', at most 64", name)
	}
	role = Canonical(role)
	if !slices.Contains(Roles, role) {
		return "", fmt.Errorf("role %q: want one of %v", role, Roles)
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", err
	}
	text := "vgl_" + hex.EncodeToString(raw[:])
	sum := sha256.Sum256([]byte(text))
	err := s.update(func(ts []Token) ([]Token, error) {
		for _, t := range ts {
			if t.Name == name {
				return nil, fmt.Errorf("a token named %q exists: revoke it first", name)
			}
		}
		return append(ts, Token{Name: name, Role: role, Hash: hex.EncodeToString(sum[:]), Created: time.Now().UTC()}), nil
	})
	if err != nil {
		return "", err
	}
	return text, nil
}

// Revoke removes the token named name.
func (s *Store) Revoke(name string) error {
	return s.update(func(ts []Token) ([]Token, error) {
		i := slices.IndexFunc(ts, func(t Token) bool { return t.Name == name })
		if i < 0 {
			return nil, fmt.Errorf("no token is named %q", name)
		}
		return slices.Delete(ts, i, i+1), nil
	})
}

// List returns the tokens, without their text (which is not kept).
func (s *Store) List() ([]Token, error) { return s.read() }

func (s *Store) read() ([]Token, error) {
	b, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading API tokens: %w", err)
	}
	var ts []Token
	if err := json.Unmarshal(b, &ts); err != nil {
		return nil, fmt.Errorf("reading API tokens %s: %w", s.path, err)
	}
	for i := range ts {
		ts[i].Role = Canonical(ts[i].Role)
	}
	return ts, nil
}

// reload rereads the file when it changed (another process added or
// revoked a token).
func (s *Store) reload() error {
	st, err := os.Stat(s.path)
	stamp := ""
	if err == nil {
		stamp = fmt.Sprint(st.Size(), st.ModTime().UnixNano())
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("reading API tokens: %w", err)
	}
	s.mu.Lock()
	same := s.byHash != nil && stamp == s.stamp
	s.mu.Unlock()
	if same {
		return nil
	}
	ts, err := s.read()
	if err != nil {
		return err
	}
	m := make(map[string]Token, len(ts))
	for _, t := range ts {
		m[t.Hash] = t
	}
	s.mu.Lock()
	s.byHash, s.stamp = m, stamp
	s.mu.Unlock()
	return nil
}

// update rewrites the file with what f makes of its tokens, atomically.
func (s *Store) update(f func([]Token) ([]Token, error)) error {
	s.writing.Lock()
	defer s.writing.Unlock()
	ts, err := s.read()
	if err != nil {
		return err
	}
	if ts, err = f(ts); err != nil {
		return err
	}
	b, err := json.MarshalIndent(ts, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFile(s.path, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("saving API tokens: %w", err)
	}
	s.mu.Lock()
	s.stamp = "" // reread
	s.byHash = nil
	s.mu.Unlock()
	return s.reload()
}

func writeSecret(path, text string) error {
	if err := writeFile(path, []byte(text+"\n"), 0o600); err != nil {
		return fmt.Errorf("saving the admin API token: %w", err)
	}
	return nil
}

// writeFile writes data to path through a temporary file and a rename.
func writeFile(path string, data []byte, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, mode); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
