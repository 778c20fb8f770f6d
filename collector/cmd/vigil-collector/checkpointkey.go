package main

import (
	"crypto/ed25519"
	"flag"
	"fmt"
	"io"

	"github.com/vigilhq/vigil/collector/checkpoint"
)

// checkpointKey prints the public key that checks the collector's signed
// checkpoints (vigil verify --public-key), making the key pair when the
// data directory has none yet, so it can be copied off the host first.
func checkpointKey(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("checkpoint-key", flag.ContinueOnError)
	data := fs.String("data", "/var/lib/vigil-collector", "data `directory`")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("checkpoint-key takes no arguments, got %q", fs.Args())
	}
	key, err := checkpoint.LoadOrCreateKey(*data)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, checkpoint.PublicKeyString(key.Public().(ed25519.PublicKey)))
	return nil
}
