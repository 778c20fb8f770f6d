package checkpoint

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/vigilhq/vigil/collector/store"
)

// Publisher is a place checkpoints go.
type Publisher interface {
	Name() string
	Publish(ctx context.Context, c store.Checkpoint) error
}

// Line is a checkpoint as published: one JSON object and a newline.
func Line(c store.Checkpoint) ([]byte, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("encoding checkpoint at seq %d: %w", c.Seq, err)
	}
	return append(b, '\n'), nil
}

// Stream is the JetStream stream of checkpoints, and Subject its subject
// (outside the agents' subjects, which no agent may publish beyond).
const (
	Stream  = "VIGIL_CHECKPOINTS"
	Subject = "vigil-checkpoints"
)

// JetStream publishes to Stream, made with DenyDelete and DenyPurge: no
// client, the collector's own included, can remove a checkpoint through
// NATS once stored.
type JetStream struct {
	js jetstream.JetStream
}

// NewJetStream makes (or checks) the stream, replicated as the events'
// stream; created says it was not there: for a collector that published
// before, someone deleted it.
func NewJetStream(ctx context.Context, js jetstream.JetStream, replicas int) (j *JetStream, created bool, err error) {
	if replicas <= 0 {
		replicas = 1
	}
	if _, err := js.Stream(ctx, Stream); errors.Is(err, jetstream.ErrStreamNotFound) {
		created = true
	} else if err != nil {
		return nil, false, fmt.Errorf("looking up stream %s: %w", Stream, err)
	}
	_, err = js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        Stream,
		Description: "vigil-collector's signed hash-chain checkpoints; nothing may delete or purge them",
		Subjects:    []string{Subject},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardNew,
		Duplicates:  time.Hour,
		Replicas:    replicas,
		DenyDelete:  true,
		DenyPurge:   true,
	})
	if err != nil {
		return nil, false, fmt.Errorf("creating stream %s: %w", Stream, err)
	}
	return &JetStream{js: js}, created, nil
}

// Name says where checkpoints go.
func (j *JetStream) Name() string { return "jetstream:" + Stream }

// Publish stores c in the stream; a repeat (a restart before it was marked
// published) is dropped by its message id.
func (j *JetStream) Publish(ctx context.Context, c store.Checkpoint) error {
	line, err := Line(c)
	if err != nil {
		return err
	}
	id := fmt.Sprintf("%s-%d-%d", c.Kind, c.Seq, c.At.UnixMilli())
	if _, err := j.js.Publish(ctx, Subject, line, jetstream.WithMsgID(id)); err != nil {
		return fmt.Errorf("publishing checkpoint at seq %d to %s: %w", c.Seq, Stream, err)
	}
	return nil
}

// ReadStream returns every checkpoint in the stream, in order.
func ReadStream(ctx context.Context, js jetstream.JetStream) ([]store.Checkpoint, error) {
	s, err := js.Stream(ctx, Stream)
	if err != nil {
		return nil, fmt.Errorf("reading stream %s: %w", Stream, err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading stream %s: %w", Stream, err)
	}
	var out []store.Checkpoint
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			return nil, fmt.Errorf("reading message %d of stream %s: %w", seq, Stream, err)
		}
		var c store.Checkpoint
		if err := json.Unmarshal(m.Data, &c); err != nil {
			return nil, fmt.Errorf("reading message %d of stream %s: %w", seq, Stream, err)
		}
		out = append(out, c)
	}
	return out, nil
}

// File appends a line per checkpoint to a file, synced before Publish
// returns: put it on storage the collector host cannot rewrite (a remote
// append-only mount, a WORM share).
type File struct{ Path string }

// Name says where checkpoints go.
func (f File) Name() string { return "file:" + f.Path }

// Publish appends c's line.
func (f File) Publish(_ context.Context, c store.Checkpoint) error {
	line, err := Line(c)
	if err != nil {
		return err
	}
	fh, err := os.OpenFile(f.Path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("publishing checkpoint at seq %d: %w", c.Seq, err)
	}
	if _, err := fh.Write(line); err != nil {
		fh.Close()
		return fmt.Errorf("publishing checkpoint at seq %d to %s: %w", c.Seq, f.Path, err)
	}
	if err := fh.Sync(); err != nil {
		fh.Close()
		return fmt.Errorf("publishing checkpoint at seq %d to %s: %w", c.Seq, f.Path, err)
	}
	if err := fh.Close(); err != nil {
		return fmt.Errorf("publishing checkpoint at seq %d to %s: %w", c.Seq, f.Path, err)
	}
	return nil
}

// Command runs a shell command per checkpoint with its line on standard
// input (logger --server, ssh host 'cat >>log', an object store's CLI); a
// non-zero exit is a failed publication.
type Command struct {
	Cmd     string
	Timeout time.Duration // default 30 s
}

// Name says where checkpoints go.
func (c Command) Name() string { return "command:" + c.Cmd }

// Publish runs the command with cp's line on its standard input.
func (c Command) Publish(ctx context.Context, cp store.Checkpoint) error {
	line, err := Line(cp)
	if err != nil {
		return err
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", c.Cmd)
	cmd.Stdin = bytes.NewReader(line)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("publishing checkpoint at seq %d with %q: %w: %s", cp.Seq, c.Cmd, err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// ReadFile reads published checkpoint lines; a bad line is an error that
// names it.
func ReadFile(path string) ([]store.Checkpoint, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading checkpoints: %w", err)
	}
	defer fh.Close()
	var out []store.Checkpoint
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var c store.Checkpoint
		if err := json.Unmarshal(line, &c); err != nil {
			return nil, fmt.Errorf("reading checkpoints: %s:%d: %w", path, n, err)
		}
		out = append(out, c)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading checkpoints %s: %w", path, err)
	}
	return out, nil
}
