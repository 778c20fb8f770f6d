package main

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/spf13/cobra"

	"github.com/vigilhq/vigil/collector/checkpoint"
	"github.com/vigilhq/vigil/collector/store"
	"github.com/vigilhq/vigil/internal/cli"
)

// verifyCommand is vigil verify.
func verifyCommand() *cobra.Command {
	var o verifyOptions
	c := &cobra.Command{
		Use:   "verify [flags] STORE",
		Short: "Check the collector's store against its hash chain and checkpoints",
		Long: `Check the collector's store file (e.g. /var/lib/vigil-collector/vigil.db),
or its PostgreSQL database (postgres://user@host/db), read-only: every chain entry follows from the one before, every alert,
event, evidence link, loss record, triage and audit row is as it was
chained, nothing chained is missing, and the chain agrees with the
checkpoints (those in the store, and those published elsewhere given with
--checkpoints). Exit 0 only when the store verifies.`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			o.Store = args[0]
			code, err := verifyStore(c.Context(), o, c.OutOrStdout())
			if err != nil {
				return err
			}
			return cli.Code(code)
		},
	}
	fs := c.Flags()
	fs.StringArrayVar(&o.Checkpoints, "checkpoints", nil, "published checkpoints: a `file` of JSON lines or nats://host:port holding the "+checkpoint.Stream+" stream (repeatable)")
	fs.StringVar(&o.NATSCreds, "nats-creds", "", "credentials or NKey seed `file` for a nats:// checkpoint source")
	fs.StringVar(&o.PublicKey, "public-key", "", "the collector's checkpoint public `key` (hex, or its checkpoint.pub file): check every signature")
	fs.BoolVar(&o.JSON, "json", false, "print the report as JSON")
	return c
}

// verifyOptions are verify's arguments, whatever parses the command line.
type verifyOptions struct {
	Store string
	// Checkpoints are files of published checkpoint lines, or nats:// URLs
	// of a server holding the checkpoint stream.
	Checkpoints []string
	NATSCreds   string
	// PublicKey is the collector's checkpoint public key, as hex or a file
	// (checkpoint.pub in its data directory); empty skips signatures.
	PublicKey string
	JSON      bool
}

// verifyStore verifies o.Store and prints the report: exitOK when it
// verifies, exitFail when it does not or cannot be read.
func verifyStore(ctx context.Context, o verifyOptions, w io.Writer) (int, error) {
	var pub ed25519.PublicKey
	if o.PublicKey != "" {
		var err error
		if pub, err = checkpoint.ParsePublicKey(o.PublicKey); err != nil {
			return exitFail, err
		}
	}
	var external []store.Checkpoint
	for _, src := range o.Checkpoints {
		cps, err := readCheckpoints(ctx, src, o.NATSCreds)
		if err != nil {
			return exitFail, err
		}
		external = append(external, cps...)
	}
	r, err := store.Verify(ctx, o.Store, external, pub)
	if err != nil {
		return exitFail, err
	}
	if o.JSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(struct {
			OK bool `json:"ok"`
			*store.VerifyReport
		}{r.OK(), r}); err != nil {
			return exitFail, fmt.Errorf("writing the report: %w", err)
		}
	} else {
		printVerify(w, o, r)
	}
	if !r.OK() {
		return exitFail, nil
	}
	return exitOK, nil
}

func printVerify(w io.Writer, o verifyOptions, r *store.VerifyReport) {
	name := store.TargetName(o.Store)
	if r.OK() {
		fmt.Fprintf(w, "ok: %s verifies: %d rows, chain seq %d to %d, %d checkpoints agree\n", name, r.Rows, r.BaseSeq+1, r.HeadSeq, r.Checkpoints)
	} else {
		fmt.Fprintf(w, "FAILED: %s does not verify; first: %s\n", name, r.Findings[0])
		for _, f := range r.Findings[1:] {
			fmt.Fprintf(w, "  %s\n", f)
		}
	}
	if !r.Signatures {
		fmt.Fprintln(w, "note: signatures not checked: pass --public-key (the collector's checkpoint.pub, copied off the host)")
	}
	if len(o.Checkpoints) == 0 {
		fmt.Fprintln(w, "note: no published checkpoints given: someone with the file and the key can rewrite the chain and its stored checkpoints whole, or cut its tail, unseen; pass --checkpoints")
	}
}

// readCheckpoints reads a checkpoint source: a nats:// URL or a file.
func readCheckpoints(ctx context.Context, src, creds string) ([]store.Checkpoint, error) {
	if !strings.HasPrefix(src, "nats://") && !strings.HasPrefix(src, "tls://") {
		return checkpoint.ReadFile(src)
	}
	var opts []nats.Option
	if creds != "" {
		if o, err := nats.NkeyOptionFromSeed(creds); err == nil {
			opts = append(opts, o)
		} else {
			opts = append(opts, nats.UserCredentials(creds))
		}
	}
	nc, err := nats.Connect(src, opts...)
	if err != nil {
		return nil, fmt.Errorf("reading checkpoints from %s: %w", src, err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("reading checkpoints from %s: %w", src, err)
	}
	cps, err := checkpoint.ReadStream(ctx, js)
	if err != nil {
		return nil, fmt.Errorf("reading checkpoints from %s: %w", src, err)
	}
	return cps, nil
}
