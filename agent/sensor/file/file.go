package file

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unsafe"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/vigilhq/vigil/agent/sensor"
)

// Config sets what the file sensor reports.
type Config struct {
	// SkipPrefixes are path prefixes whose writes are not reported (at most
	// 8, each under 64 bytes). A prefix matches itself and what lies below it.
	SkipPrefixes []string
	// SkipFSMagics are file system magics whose writes are not reported.
	SkipFSMagics []uint32
	// Interim is how often a file that stays open and keeps being written is
	// reported. Zero means 5 s.
	Interim time.Duration
}

// DefaultSkipPrefixes are pseudo file systems. /dev is not among them:
// device nodes are not regular files and are never reported, while /dev/shm
// is a tmpfs where an export can be staged.
var DefaultSkipPrefixes = []string{"/proc", "/sys"}

// DefaultSkipFSMagics are kernel pseudo file systems no person exports data to.
var DefaultSkipFSMagics = []uint32{
	0x9fa0,     // proc
	0x62656572, // sysfs
	0x1cd1,     // devpts
	0x64626720, // debugfs
	0x74726163, // tracefs
	0x73636673, // securityfs
	0x27e0eb,   // cgroup
	0x63677270, // cgroup2
	0xcafe4a11, // bpf
	0x50495045, // pipefs
	0x534f434b, // sockfs
	0x6e736673, // nsfs
	0x09041934, // anon_inode
	0x62656570, // configfs
	0x6165676c, // pstore
	0xde5e81e4, // efivarfs
	0x42494e4d, // binfmt_misc
	0x19800202, // mqueue
}

const (
	maxPrefixes = 8
	maxPrefix   = 64
)

// Sensor reports file writes and renames.
type Sensor struct {
	sensor.Loaded
	cfg Config
}

// New returns the file sensor, not yet started.
func New(cfg Config) *Sensor { return &Sensor{cfg: cfg} }

// Name implements sensor.Sensor.
func (s *Sensor) Name() string { return "file" }

// Types implements sensor.Sensor.
func (s *Sensor) Types() []uint32 { return []uint32{sensor.RecFileWrite, sensor.RecFileRename} }

// Start implements sensor.Sensor.
func (s *Sensor) Start(env sensor.Env) error {
	if len(s.cfg.SkipPrefixes) > maxPrefixes {
		return fmt.Errorf("file sensor takes at most %d skip prefixes, got %d", maxPrefixes, len(s.cfg.SkipPrefixes))
	}
	for _, p := range s.cfg.SkipPrefixes {
		if len(p) == 0 || len(p) >= maxPrefix || p[0] != '/' {
			return fmt.Errorf("file sensor skip prefix %q: want an absolute path under %d bytes", p, maxPrefix)
		}
	}
	spec, err := loadFile()
	if err != nil {
		return fmt.Errorf("loading file sensor spec: %w", err)
	}
	interim := s.cfg.Interim
	if interim == 0 {
		interim = 5 * time.Second
	}
	if err := spec.Variables["interim_ns"].Set(uint64(interim)); err != nil {
		return fmt.Errorf("setting interim: %w", err)
	}
	if err := s.Load(spec, env); err != nil {
		return err
	}
	if err := s.setFilters(); err != nil {
		s.Close()
		return err
	}
	return nil
}

func (s *Sensor) setFilters() error {
	prefixes := s.Coll.Maps["skip_prefixes"]
	for i, p := range s.cfg.SkipPrefixes {
		var v filePrefix
		v.Len = uint32(len(p))
		copy(sensor.Bytes(v.S[:]), p)
		if err := prefixes.Update(uint32(i), &v, ebpf.UpdateAny); err != nil {
			return fmt.Errorf("setting skip prefix %q: %w", p, err)
		}
	}
	magics := s.Coll.Maps["skip_magics"]
	for _, m := range s.cfg.SkipFSMagics {
		if err := magics.Update(m, uint8(1), ebpf.UpdateAny); err != nil {
			return fmt.Errorf("setting skipped file system %#x: %w", m, err)
		}
	}
	return nil
}

// Decode implements sensor.Sensor.
func (s *Sensor) Decode(typ uint32, raw []byte) (any, error) { return Decode(typ, raw) }

// Decode decodes a raw file record. Records are sent trimmed after the path.
func Decode(typ uint32, raw []byte) (any, error) {
	switch typ {
	case sensor.RecFileWrite:
		var r fileFileRec
		size := int(unsafe.Sizeof(r))
		if len(raw) < size-int(unsafe.Sizeof(r.St.Path)) || len(raw) > size {
			return nil, fmt.Errorf("file record of %d bytes, want %d to %d", len(raw), size-int(unsafe.Sizeof(r.St.Path)), size)
		}
		// The kernel trims the record after the path; the rest stays zero.
		copy(unsafe.Slice((*byte)(unsafe.Pointer(&r)), size), raw)
		st := &r.St
		return &sensor.FileWrite{
			Header: sensor.HeaderAt(unsafe.Pointer(&r.Hdr)), Reason: r.Reason, WriterPID: st.WriterPid,
			FirstTS: st.FirstTs, LastTS: st.LastTs, Bytes: st.Bytes, Writes: st.Writes,
			OpenFlags: st.OpenFlags, Created: st.Bits&sensor.FileCreated != 0, PathTruncated: st.Bits&sensor.FilePathTrunc != 0,
			FlagsFromOpen: st.Bits&sensor.FileOpenSeen != 0, Dev: st.Dev, FSMagic: st.FsMagic,
			FSType: sensor.CString(st.Fstype[:]), Path: sensor.CString(st.Path[:]),
		}, nil
	case sensor.RecFileRename:
		r, err := sensor.Cast[fileRenameRec](raw)
		if err != nil {
			return nil, fmt.Errorf("decoding rename: %w", err)
		}
		return &sensor.Rename{
			Header:  sensor.HeaderAt(unsafe.Pointer(&r.Hdr)),
			OldBase: sensor.CString(r.OldBase[:]), OldName: sensor.CString(r.OldName[:]),
			NewBase: sensor.CString(r.NewBase[:]), NewName: sensor.CString(r.NewName[:]),
		}, nil
	}
	return nil, fmt.Errorf("file sensor has no record type %d", typ)
}

// IdleAfter is how long a tracked file may go unwritten before Sweep
// reports what it still holds and forgets it.
const IdleAfter = 10 * time.Minute

// Sweep reports and forgets files not written for idle: an open file that
// went quiet after its last interim report, and entries whose file was
// closed in a way no probe sees (close_range, exec of a close-on-exec
// descriptor). It bounds the kernel's table. now is CLOCK_BOOTTIME.
//
// The kernel adds bytes atomically while Sweep reads and deletes, so a
// write landing between the two would go unreported; that needs a write to
// a file quiet for the whole idle period to arrive in that instant.
func (s *Sensor) Sweep(now time.Duration, idle time.Duration) ([]*sensor.FileWrite, error) {
	files := s.Coll.Maps["files"]
	var (
		key  uint64
		val  fileWrittenFile
		keys []uint64
		out  []*sensor.FileWrite
	)
	iter := files.Iterate()
	for iter.Next(&key, &val) {
		last := max(val.LastTs, val.LastReport)
		if uint64(now) < last || time.Duration(uint64(now)-last) < idle {
			continue
		}
		keys = append(keys, key)
		if val.Ignored != 0 || val.Bytes == 0 {
			continue
		}
		out = append(out, &sensor.FileWrite{
			Header: sensor.Header{Type: sensor.RecFileWrite, PID: val.WriterPid, TID: val.WriterTid, TS: uint64(now),
				UID: ^uint32(0), LoginUID: ^uint32(0), SessionID: ^uint32(0)},
			Reason: sensor.FileIdle, WriterPID: val.WriterPid, FirstTS: val.FirstTs, LastTS: val.LastTs,
			Bytes: val.Bytes, Writes: val.Writes, OpenFlags: val.OpenFlags, Created: val.Bits&sensor.FileCreated != 0,
			PathTruncated: val.Bits&sensor.FilePathTrunc != 0, FlagsFromOpen: val.Bits&sensor.FileOpenSeen != 0, Dev: val.Dev, FSMagic: val.FsMagic,
			FSType: sensor.CString(val.Fstype[:]), Path: sensor.CString(val.Path[:]),
		})
	}
	if err := iter.Err(); err != nil {
		return out, fmt.Errorf("sweeping written files: %w", err)
	}
	for _, k := range keys {
		if err := files.Delete(k); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
			return out, fmt.Errorf("forgetting idle file: %w", err)
		}
	}
	return out, nil
}

// RunSweep sweeps every minute until ctx ends, handing reports to emit.
func (s *Sensor) RunSweep(ctx context.Context, emit func([]*sensor.FileWrite)) error {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			var ts unix.Timespec
			if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
				return err
			}
			recs, err := s.Sweep(time.Duration(ts.Nano()), IdleAfter)
			if len(recs) > 0 {
				emit(recs)
			}
			if err != nil {
				return err
			}
		}
	}
}
