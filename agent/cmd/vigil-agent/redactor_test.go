package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/vigilhq/vigil/agent/config"
	"github.com/vigilhq/vigil/agent/redact"
)

// The key of identifier hashes: db.key_file's, else the one enrolled with
// the credentials, else one of the host alone; and the packaged columns
// report a customer looked up by id under customer_id.
func TestRedactorKey(t *testing.T) {
	hashWith := func(key string) string {
		r, err := redact.New(redact.Config{Key: []byte(key)})
		if err != nil {
			t.Fatal(err)
		}
		return r.IdentifierHash("42")
	}
	lookup := func(cfg *config.Config, enrolled string) (string, error) {
		red, err := redactor(cfg, enrolled, quietLog())
		if err != nil {
			return "", err
		}
		res := red.Redact(redact.Postgres, "SELECT * FROM customers WHERE id = 42")
		if len(res.Identifiers[config.CustomerIdentifier]) != 1 {
			t.Fatalf("identifiers %v, want one %s hash", res.Identifiers, config.CustomerIdentifier)
		}
		return res.Identifiers[config.CustomerIdentifier][0], nil
	}
	const enrolled = "0123456789abcdef-enrolled"
	cfg := config.Default()
	cfg.StateDir = t.TempDir()
	if got, err := lookup(cfg, enrolled); err != nil || got != hashWith(enrolled) {
		t.Errorf("with enrolled credentials: %s %v, want the enrolled key's hash", got, err)
	}
	keyFile := filepath.Join(t.TempDir(), "deployment.key")
	if err := os.WriteFile(keyFile, []byte("0123456789abcdef-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.DB.KeyFile = keyFile
	if got, err := lookup(cfg, enrolled); err != nil || got != hashWith("0123456789abcdef-file") {
		t.Errorf("with db.key_file: %s %v, want the file's key's hash", got, err)
	}
	cfg.DB.KeyFile = ""
	got, err := lookup(cfg, "")
	if err != nil || got == hashWith(enrolled) {
		t.Errorf("with neither: %s %v, want a key of the host", got, err)
	}
	if _, err := os.Stat(filepath.Join(cfg.StateDir, "host.key")); err != nil {
		t.Errorf("no host key made: %v", err)
	}
	if _, err := lookup(cfg, "short"); err == nil {
		t.Error("a short enrolled key was accepted")
	}
}
