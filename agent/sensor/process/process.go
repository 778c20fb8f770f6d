package process

import (
	"bytes"
	"fmt"
	"unsafe"

	"github.com/vigilhq/vigil/agent/sensor"
)

// Sensor watches exec, fork and exit through sched tracepoints (tp_btf).
type Sensor struct {
	sensor.Loaded
}

// New returns the process sensor, not yet started.
func New() *Sensor { return &Sensor{} }

// Name implements sensor.Sensor.
func (s *Sensor) Name() string { return "process" }

// Types implements sensor.Sensor.
func (s *Sensor) Types() []uint32 {
	return []uint32{sensor.RecExec, sensor.RecFork, sensor.RecExit}
}

// Start implements sensor.Sensor.
func (s *Sensor) Start(env sensor.Env) error {
	spec, err := loadProcess()
	if err != nil {
		return fmt.Errorf("loading process sensor spec: %w", err)
	}
	return s.Load(spec, env)
}

// Decode implements sensor.Sensor.
func (s *Sensor) Decode(typ uint32, raw []byte) (any, error) {
	return Decode(typ, raw)
}

// Decode decodes a raw process record.
func Decode(typ uint32, raw []byte) (any, error) {
	switch typ {
	case sensor.RecExec:
		r, err := sensor.Cast[processExecRec](raw)
		if err != nil {
			return nil, fmt.Errorf("decoding exec: %w", err)
		}
		args := sensor.Bytes(r.Args[:min(int(r.ArgsLen), len(r.Args))])
		args = bytes.TrimRight(args, "\x00")
		var argv []string
		if len(args) > 0 {
			for _, a := range bytes.Split(args, []byte{0}) {
				argv = append(argv, string(a))
			}
		}
		return &sensor.Exec{
			Header: sensor.HeaderAt(unsafe.Pointer(&r.Hdr)), PPID: r.Ppid, GID: r.Gid,
			StartBoottime: r.StartBoottime, TTY: sensor.CString(r.Tty[:]),
			Filename: sensor.CString(r.Filename[:]), Args: argv, ArgsTruncated: r.ArgsTruncated != 0,
		}, nil
	case sensor.RecFork:
		r, err := sensor.Cast[processForkRec](raw)
		if err != nil {
			return nil, fmt.Errorf("decoding fork: %w", err)
		}
		return &sensor.Fork{Header: sensor.HeaderAt(unsafe.Pointer(&r.Hdr)), PPID: r.Ppid, StartBoottime: r.StartBoottime}, nil
	case sensor.RecExit:
		r, err := sensor.Cast[processExitRec](raw)
		if err != nil {
			return nil, fmt.Errorf("decoding exit: %w", err)
		}
		return &sensor.Exit{Header: sensor.HeaderAt(unsafe.Pointer(&r.Hdr)), PPID: r.Ppid, ExitCode: r.ExitCode, StartBoottime: r.StartBoottime}, nil
	}
	return nil, fmt.Errorf("process sensor has no record type %d", typ)
}
