package forward

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/vigilhq/vigil/collector/ocsf"
)

// FileSink appends one finding per line to a file, or to standard output.
type FileSink struct {
	name string
	w    io.Writer
	f    *os.File // nil for standard output
}

// NewFileSink opens path for appending ("-": standard output).
func NewFileSink(path string) (*FileSink, error) {
	if path == "-" {
		return &FileSink{name: "stdout", w: os.Stdout}, nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening OCSF output file: %w", err)
	}
	return &FileSink{name: "file", w: f, f: f}, nil
}

// Name implements Sink.
func (s *FileSink) Name() string { return s.name }

// Send implements Sink.
func (s *FileSink) Send(_ context.Context, _ *ocsf.DetectionFinding, body []byte) error {
	_, err := s.w.Write(append(body, '\n'))
	return err
}

// Close implements Sink.
func (s *FileSink) Close() error {
	if s.f == nil {
		return nil
	}
	return s.f.Close()
}
