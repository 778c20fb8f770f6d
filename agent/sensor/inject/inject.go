package inject

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"unsafe"

	"github.com/cilium/ebpf"

	"github.com/vigilhq/vigil/agent/sensor"
)

// digits is how many bytes of the path the running number takes.
const digits = 8

// FindRing opens the ring buffer of the agent running as pid, through the
// map ids its file descriptors name.
func FindRing(pid int) (*ebpf.Map, error) {
	dir := fmt.Sprintf("/proc/%d/fdinfo", pid)
	fds, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	for _, fd := range fds {
		info, err := os.ReadFile(dir + "/" + fd.Name())
		if err != nil || !strings.Contains(string(info), "map_type:\t27\n") { // BPF_MAP_TYPE_RINGBUF
			continue
		}
		id, ok := field(string(info), "map_id:")
		if !ok {
			continue
		}
		m, err := ebpf.NewMapFromID(ebpf.MapID(id))
		if err != nil {
			continue
		}
		if mi, err := m.Info(); err == nil && mi.Name == sensor.RingName {
			return m, nil
		}
		m.Close()
	}
	return nil, fmt.Errorf("process %d holds no ring buffer named %s", pid, sensor.RingName)
}

func field(info, key string) (uint64, bool) {
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(line, key); ok {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 32)
			return n, err == nil
		}
	}
	return 0, false
}

// Record is the file.write every injected record repeats, but for its times
// and the number ending its path.
type Record struct {
	// The writer: its pid and thread, user, login user and session, and
	// command name, as the kernel would fill them.
	PID, TID, UID, LoginUID, SessionID uint32
	Comm                               string
	// Prefix is the path before the running number (8 digits).
	Prefix string
	// Bytes and Writes are the record's totals; FSType and FSMagic the
	// file system's.
	Bytes, Writes uint64
	FSType        string
	FSMagic       uint32
}

// Self is a Record of this process writing small new files under prefix
// on a tmpfs.
func Self(prefix string) Record {
	pid := uint32(os.Getpid())
	r := Record{PID: pid, TID: pid, UID: uint32(os.Getuid()), LoginUID: ^uint32(0), SessionID: ^uint32(0),
		Comm: "vigil-inject", Prefix: prefix, Bytes: 4096, Writes: 1, FSType: "tmpfs", FSMagic: 0x01021994}
	if v, ok := readUint("/proc/self/loginuid"); ok {
		r.LoginUID = v
	}
	if v, ok := readUint("/proc/self/sessionid"); ok {
		r.SessionID = v
	}
	if b, err := os.ReadFile("/proc/self/comm"); err == nil {
		r.Comm = strings.TrimSpace(string(b))
	}
	return r
}

func readUint(path string) (uint32, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 32)
	return uint32(n), err == nil
}

// Injector writes records into one ring buffer.
type Injector struct {
	objs injectObjects
	data []byte // the packet each run is handed; XDP wants an Ethernet header's worth
}

// New loads the injector for ring, a reader that polls (as the agent's does:
// records are submitted without a wakeup until a quarter of the ring waits).
// The caller keeps ring open while the Injector is used, and closes both.
func New(ring *ebpf.Map, r Record) (*Injector, error) {
	if len(r.Prefix)+digits >= len(injectFileRec{}.St.Path) {
		return nil, fmt.Errorf("path prefix of %d bytes: at most %d", len(r.Prefix), len(injectFileRec{}.St.Path)-digits-1)
	}
	spec, err := loadInject()
	if err != nil {
		return nil, err
	}
	opts, err := sensor.Env{Events: ring, NoWakeup: true, WakeBytes: ring.MaxEntries() / 4}.Prepare(spec)
	if err != nil {
		return nil, err
	}
	if err := spec.Variables["num_at"].Set(uint32(len(r.Prefix))); err != nil {
		return nil, err
	}
	in := &Injector{data: make([]byte, 64)}
	if err := spec.LoadAndAssign(&in.objs, opts); err != nil {
		return nil, fmt.Errorf("loading the injector: %w", err)
	}
	var rec injectFileRec
	rec.Hdr.Type = sensor.RecFileWrite
	rec.Hdr.Pid, rec.Hdr.Tid, rec.Hdr.Uid = r.PID, r.TID, r.UID
	rec.Hdr.Loginuid, rec.Hdr.Sessionid = r.LoginUID, r.SessionID
	putString(rec.Hdr.Comm[:], r.Comm)
	rec.Reason = sensor.FileClose
	st := &rec.St
	st.WriterPid, st.WriterTid = r.PID, r.TID
	st.Bytes, st.Writes = r.Bytes, r.Writes
	st.OpenFlags = syscall.O_WRONLY | syscall.O_CREAT | syscall.O_TRUNC
	st.Bits = sensor.FileCreated | sensor.FileOpenSeen
	st.FsMagic = r.FSMagic
	putString(st.Fstype[:], r.FSType)
	putString(st.Path[:], r.Prefix+strings.Repeat("0", digits))
	st.PathLen = uint16(len(r.Prefix) + digits)
	if err := in.objs.Tmpl.Put(uint32(0), &rec); err != nil {
		in.Close()
		return nil, fmt.Errorf("filling the record: %w", err)
	}
	return in, nil
}

func putString(dst []int8, s string) {
	copy(unsafe.Slice((*byte)(unsafe.Pointer(&dst[0])), len(dst)-1), s)
}

// Inject offers n records to the ring. Records the ring had no room for are
// counted in Drops, as the sensors count theirs. One goroutine at a time.
func (in *Injector) Inject(n int) error {
	done, err := in.Offered()
	if err != nil {
		return err
	}
	end := done + uint64(n)
	if err := in.objs.Limit.Set(end); err != nil {
		return err
	}
	// A run interrupted by a signal is run again whole by the library:
	// the limit makes the extra runs return at once, and the loop checks.
	for done < end {
		batch := min(end-done, 1<<16)
		if _, err := in.objs.Inject.Run(&ebpf.RunOptions{Data: in.data, Repeat: uint32(batch)}); err != nil {
			return fmt.Errorf("running the injector: %w", err)
		}
		if done, err = in.Offered(); err != nil {
			return err
		}
	}
	return nil
}

// Offered is how many records were offered so far, submitted or dropped.
func (in *Injector) Offered() (uint64, error) {
	var n uint64
	err := in.objs.Injected.Get(&n)
	return n, err
}

// Drops is how many offered records found the ring full.
func (in *Injector) Drops() (uint64, error) {
	drops, err := sensor.ReadDrops(in.objs.Drops)
	return drops["ringbuf_full"], err
}

// Close unloads the injector.
func (in *Injector) Close() error {
	return in.objs.Close()
}
