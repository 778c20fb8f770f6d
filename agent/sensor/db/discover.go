package db

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/ringbuf"

	"github.com/vigilhq/vigil/agent/sensor"
)

// discovery finds the TLS libraries processes load and has them probed:
// those in the usual directories at start, those every running process maps,
// and each file a process maps executable later (libwatch.bpf.c reports it
// at exec, mmap and mprotect). A file is judged by its symbols, not its
// name, so a renamed bundled copy (libssl-<hash>.so) is probed too.
type discovery struct {
	procRoot string
	progs    map[string]*ebpf.Program
	log      *slog.Logger

	watch   sensor.Loaded // libwatch.bpf.c
	ring    *ringbuf.Reader
	queue   chan candidate
	done    chan struct{}
	stopped sync.WaitGroup

	mu          sync.Mutex
	judged      map[fileVersion]string // kind, kindNone for files that take no probes
	probed      map[fileVersion]string // path, as the first process seen mapping it had it
	errs        []string               // the latest errors, oldest first
	local       sensor.Links           // attached by the agent itself
	attacher    *attacherClient        // once started, every attach goes through it
	failed      uint64                 // TLS libraries that could not be probed
	unreachable uint64                 // deleted files mapped that could not be opened
	scanned     chan struct{}          // closed once every process at start was looked at

	// queueFull counts CheckProcess requests and mapped files turned away;
	// atomic, so that the ring's reader never waits on mu, which an attach
	// holds.
	queueFull atomic.Uint64
}

// candidate is a file a process maps (found in its maps by id), or (scan)
// a whole process to look at (pid 0: every process).
type candidate struct {
	pid  uint32
	id   fileID
	gen  uint32
	scan bool
}

// maxErrs bounds the errors kept for LibSSLErrors.
const maxErrs = 64

// scanWait bounds how long StartAttacher waits for the start scan.
const scanWait = 30 * time.Second

// queueLen is how many candidates wait for the worker at most.
const queueLen = 1024

func newDiscovery(progs map[string]*ebpf.Program, log *slog.Logger) *discovery {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	d := &discovery{procRoot: "/proc", progs: progs, log: log, queue: make(chan candidate, queueLen),
		done: make(chan struct{}), scanned: make(chan struct{}), judged: map[fileVersion]string{}, probed: map[fileVersion]string{}}
	// The agent's own binary is not probed: its TLS is its link to the
	// collector, which the programs would skip anyway, at a cost per call.
	if f, err := os.Open("/proc/self/exe"); err == nil {
		if v, err := statVersion(f); err == nil {
			d.judged[v] = kindNone
		}
		f.Close()
	}
	return d
}

// start loads the mapping watch and starts the worker: files mapped from
// now on are reported by the kernel, and those mapped before are found by
// scanning every process. A watch that cannot load leaves the scans.
func (d *discovery) start(env sensor.Env) {
	if err := d.loadWatch(env); err != nil {
		d.fail(fmt.Sprintf("watching for libraries loaded later: %v", err))
	}
	d.stopped.Add(1)
	go d.work()
	d.enqueue(candidate{scan: true}) // pid 0: every process
}

func (d *discovery) loadWatch(env sensor.Env) error {
	spec, err := loadLibwatch()
	if err != nil {
		return fmt.Errorf("loading libwatch spec: %w", err)
	}
	if err := d.watch.Load(spec, env); err != nil {
		return err
	}
	if d.ring, err = ringbuf.NewReader(d.watch.Coll.Maps["lib_ring"]); err != nil {
		d.watch.Close()
		return fmt.Errorf("reading libwatch's ring: %w", err)
	}
	d.stopped.Add(1)
	go d.read()
	return nil
}

// read hands each mapped file the kernel reports to the worker. It waits
// for room rather than dropping: the kernel keeps reporting a file until
// its record made it into the ring, so a full ring loses nothing for good.
func (d *discovery) read() {
	defer d.stopped.Done()
	var rec ringbuf.Record
	for {
		if err := d.ring.ReadInto(&rec); err != nil {
			return // closed
		}
		r, err := sensor.Cast[libwatchLibMappedRec](rec.RawSample)
		if err != nil {
			d.fail(fmt.Sprintf("libwatch record: %v", err))
			continue
		}
		c := candidate{pid: r.Hdr.Pid, id: fileID{Dev: r.Dev, Ino: r.Ino}, gen: r.Gen}
		select {
		case d.queue <- c:
		case <-d.done:
			return
		}
	}
}

// enqueue queues c unless the queue is full, which it counts.
func (d *discovery) enqueue(c candidate) {
	select {
	case d.queue <- c:
	default:
		d.queueFull.Add(1)
	}
}

func (d *discovery) work() {
	defer d.stopped.Done()
	for {
		select {
		case <-d.done:
			return
		case c := <-d.queue:
			if c.scan && c.pid == 0 {
				d.scanAll()
				close(d.scanned)
				continue
			}
			d.handle(c)
		}
	}
}

func (d *discovery) handle(c candidate) {
	if c.scan {
		d.scanProcess(c.pid)
		return
	}
	d.mapped(c)
}

// handleWaiting handles what waits in the queue: a file mapped now is
// about to be used, and goes before the rest of the start scan.
func (d *discovery) handleWaiting() {
	for {
		select {
		case c := <-d.queue:
			d.handle(c)
		default:
			return
		}
	}
}

// scanAll looks at every running process's executable mappings.
func (d *discovery) scanAll() {
	ents, err := os.ReadDir(d.procRoot)
	if err != nil {
		d.fail(fmt.Sprintf("listing processes: %v", err))
		return
	}
	for _, e := range ents {
		pid, err := strconv.ParseUint(e.Name(), 10, 32)
		if err != nil {
			continue
		}
		select {
		case <-d.done:
			return
		default:
		}
		d.handleWaiting()
		d.scanProcess(uint32(pid))
	}
}

// scanProcess probes what pid maps executable and is not judged yet.
func (d *discovery) scanProcess(pid uint32) {
	maps, err := procMaps(d.procRoot, pid)
	if err != nil {
		return // the process ended
	}
	seen := map[fileID]bool{}
	for _, m := range maps {
		if m.exec && !seen[m.id] {
			seen[m.id] = true
			d.judge(pid, m)
		}
	}
}

// mapped handles a file the kernel saw a process map. One it could not
// judge is forgotten by the kernel too, so the next mapping reports it.
func (d *discovery) mapped(c candidate) {
	if !d.judgeMapped(c) && d.watch.Coll != nil {
		key := libwatchLibKey{Ino: c.id.Ino, Dev: c.id.Dev, Gen: c.gen}
		_ = d.watch.Coll.Maps["lib_seen"].Delete(&key)
	}
}

func (d *discovery) judgeMapped(c candidate) bool {
	maps, err := procMaps(d.procRoot, c.pid)
	if err != nil {
		return false // the process ended before its maps were read
	}
	for _, m := range maps {
		if m.id == c.id {
			return d.judge(c.pid, m)
		}
	}
	return false // unmapped again already
}

// judge opens the file m that pid maps (pid 0: m.path is a host path)
// and probes it if its symbols say it is a TLS library. It says whether
// the file was judged; a file that could not be opened was not.
func (d *discovery) judge(pid uint32, m mapping) bool {
	path := m.path
	f, open, err := d.open(pid, m)
	if err != nil {
		if strings.HasSuffix(path, " (deleted)") {
			// Replaced since it was mapped (an upgrade) or never named
			// (memfd): only map_files reaches it, which takes
			// CAP_SYS_ADMIN, held until capabilities are dropped.
			d.mu.Lock()
			d.unreachable++
			d.mu.Unlock()
			d.log.Debug("mapped file not judged", "pid", pid, "path", path, "err", err)
		} else if !errors.Is(err, os.ErrNotExist) {
			d.fail(fmt.Sprintf("opening %s: %v", open, err))
		}
		return false
	}
	defer f.Close()
	v, err := statVersion(f)
	if err != nil {
		d.fail(err.Error())
		return false
	}
	d.mu.Lock()
	_, done := d.judged[v]
	d.mu.Unlock()
	if done {
		return true
	}
	kind, err := tlsKind(f)
	if err != nil {
		d.fail(fmt.Sprintf("%s: %v", open, err))
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.judged[v]; ok {
		return true
	}
	d.judged[v] = kind
	if kind == kindNone {
		return true
	}
	links, err := d.attachLocked(f, open)
	if err != nil {
		d.failed++
		d.failLocked(err.Error())
		return true
	}
	d.probed[v] = path
	d.log.Info("probing TLS library", "path", path, "pid", pid, "kind", kind, "probes", links)
	return true
}

// open opens the file m that pid maps: through the process's root, or for
// a deleted file through map_files.
func (d *discovery) open(pid uint32, m mapping) (*os.File, string, error) {
	if pid == 0 {
		f, err := openFile(m.path, m.id)
		return f, m.path, err
	}
	proc := filepath.Join(d.procRoot, strconv.FormatUint(uint64(pid), 10))
	if !strings.HasSuffix(m.path, " (deleted)") {
		open := filepath.Join(proc, "root", m.path)
		f, err := openFile(open, m.id)
		return f, open, err
	}
	open := filepath.Join(proc, "map_files", m.span)
	f, err := openFile(open, m.id)
	return f, open, err
}

// attachLocked probes f through the attacher when it runs, else itself.
func (d *discovery) attachLocked(f *os.File, label string) (int, error) {
	if d.attacher != nil {
		reply, err := d.attacher.attach(f, label)
		if err != nil {
			return 0, err
		}
		if reply.Err != "" {
			return 0, fmt.Errorf("attacher: %s", reply.Err)
		}
		if reply.Kind == kindNone {
			return 0, fmt.Errorf("attacher: %s takes no TLS probes", label)
		}
		return reply.Links, nil
	}
	links, _, err := probeFile(f, d.progs)
	if err != nil {
		return 0, err
	}
	d.local = append(d.local, links...)
	return len(links), nil
}

// judgePath judges a file named by a host path (the usual library
// directories, configured paths).
func (d *discovery) judgePath(path string) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	id, err := statID(f)
	f.Close()
	if err == nil {
		d.judge(0, mapping{id: id, path: path})
	}
}

// startAttacher runs the attacher: attaches from now on go through it.
// It first lets the scan of the processes running at start finish (for a
// while), which opens deleted files through map_files while it can.
func (d *discovery) startAttacher(exe string) (int, error) {
	select {
	case <-d.scanned:
	case <-time.After(scanWait):
		d.fail(fmt.Sprintf("the scan of running processes took over %v: the rest is probed through the attacher, deleted files not", scanWait))
	}
	c, err := startAttacher(exe, d.progs)
	if err != nil {
		return 0, err
	}
	d.mu.Lock()
	old := d.attacher
	d.attacher = c
	d.mu.Unlock()
	if old != nil {
		_ = old.close()
	}
	return c.pid(), nil
}

func (d *discovery) fail(msg string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.failLocked(msg)
}

func (d *discovery) failLocked(msg string) {
	d.log.Warn("TLS library not probed", "err", msg)
	if len(d.errs) == maxErrs {
		d.errs = d.errs[1:]
	}
	d.errs = append(d.errs, msg)
}

// probedPaths lists the files probed.
func (d *discovery) probedPaths() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]string, 0, len(d.probed))
	for _, p := range d.probed {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

func (d *discovery) errors() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.errs...)
}

// drops adds discovery's losses to a drops map: mapped files the kernel
// could not report yet (ring full; reported at their next mapping), checks
// turned away, files that could not be probed.
func (d *discovery) drops(into map[string]uint64) {
	if d.watch.Coll != nil {
		if k, err := d.watch.Drops(); err == nil {
			into["libwatch_ringbuf_full"] = k["ringbuf_full"]
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	into["tls_check_queue_full"] = d.queueFull.Load()
	into["tls_probe_failed"] = d.failed
	into["mapped_file_unreachable"] = d.unreachable
}

// close stops the worker, the watch and the attacher, and detaches the
// probes the agent attached itself.
func (d *discovery) close() error {
	close(d.done)
	var errs []error
	if d.ring != nil {
		errs = append(errs, d.ring.Close())
	}
	d.stopped.Wait()
	errs = append(errs, d.watch.Close())
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.attacher != nil {
		errs = append(errs, d.attacher.close())
		d.attacher = nil
	}
	errs = append(errs, d.local.Close())
	d.local = nil
	return errors.Join(errs...)
}
