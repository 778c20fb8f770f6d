package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigilhq/vigil/collector/checkpoint"
)

// The printed key is the one in the data directory's public key file, the
// same on every call.
func TestCheckpointKeyPrintsThePublicKey(t *testing.T) {
	dir := t.TempDir()
	var first, second bytes.Buffer
	if err := checkpointKey(dir, &first); err != nil {
		t.Fatal(err)
	}
	if err := checkpointKey(dir, &second); err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(filepath.Join(dir, checkpoint.PubKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if first.String() != second.String() || strings.TrimSpace(first.String()) != strings.TrimSpace(string(file)) {
		t.Fatalf("printed %q then %q; file holds %q", first.String(), second.String(), file)
	}
	if _, err := checkpoint.ParsePublicKey(first.String()); err != nil {
		t.Fatalf("the printed key does not parse: %v", err)
	}
}
