package main

import (
	"crypto/ed25519"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/vigilhq/vigil/collector/checkpoint"
)

// checkpointKeyCommand is vigil-collector checkpoint-key.
func checkpointKeyCommand() *cobra.Command {
	var data string
	c := &cobra.Command{
		Use:   "checkpoint-key [--data DIR]",
		Short: "Print the public key of the store's signed checkpoints (vigil verify --public-key)",
		Long: `Print the public key that checks the store's signed checkpoints (vigil verify
--public-key), making the key pair in the data directory when it has none yet,
so that it can be copied off the host before the first run.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return checkpointKey(data, c.OutOrStdout()) },
	}
	c.Flags().StringVar(&data, "data", "/var/lib/vigil-collector", "data `directory`")
	_ = c.MarkFlagDirname("data")
	return c
}

// checkpointKey prints the public key that checks the collector's signed
// checkpoints (vigil verify --public-key), making the key pair when the
// data directory has none yet, so it can be copied off the host first.
func checkpointKey(data string, out io.Writer) error {
	key, err := checkpoint.LoadOrCreateKey(data)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, checkpoint.PublicKeyString(key.Public().(ed25519.PublicKey)))
	return nil
}
