package db_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/jackc/pgx/v5"
	"golang.org/x/sys/unix"

	"github.com/vigilhq/vigil/agent/sensor"
	"github.com/vigilhq/vigil/agent/sensor/db"
	"github.com/vigilhq/vigil/internal/testdb"
	"github.com/vigilhq/vigil/internal/testenv"
)

// BenchmarkSyscallCost measures what the database programs cost the
// processes they watch: the kernel's own run time of every db program
// (bpf_stats) divided by the operations, and the records each operation
// puts in the ring. A pipe and a TCP connection that is no database's show
// what every other process pays; a real PostgreSQL connection, what a
// database client pays per pgbench transaction (select-only and the
// default TPC-B-like script) and per statement, for a one-row answer and
// for an answer long enough to take many reads.
func BenchmarkSyscallCost(b *testing.B) {
	if os.Geteuid() != 0 {
		testenv.Skip(b, "loading eBPF programs needs root")
	}
	pg := testdb.StartPostgres(b, testdb.Options{})
	sn := db.New(db.Config{Ports: []uint16{uint16(pg.Port)}})
	set, err := sensor.Start([]sensor.Sensor{sn}, sensor.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer set.Close()
	// The reader counts database records and, at each marker statement the
	// benchmark sends after its loop, hands the count before it over: the
	// ring keeps submission order, so every record of the loop is counted
	// by then.
	var records atomic.Int64
	marked := make(chan int64)
	go func() {
		for {
			r, err := set.Read()
			if err != nil {
				close(marked)
				return
			}
			if d, ok := r.(*db.Data); ok {
				// The query only: the server's answer holds the text too.
				if d.Sent && bytes.HasPrefix(d.Data, []byte("Q")) && bytes.Contains(d.Data, []byte(benchMarker)) {
					marked <- records.Load()
				}
				records.Add(1)
			}
		}
	}()
	stats, err := ebpf.EnableStats(uint32(unix.BPF_STATS_RUN_TIME))
	if err != nil {
		testenv.Skip(b, "bpf_stats: "+err.Error())
	}
	defer stats.Close()
	progs := dbPrograms(b)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pg.DSN)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	query := func(b *testing.B, sql string) {
		rows, err := conn.Query(ctx, sql, pgx.QueryExecModeSimpleProtocol)
		if err != nil {
			b.Fatal(err)
		}
		for rows.Next() {
		}
		if err := rows.Err(); err != nil {
			b.Fatal(err)
		}
	}
	// mark sends the marker and returns the records read before it.
	mark := func(b *testing.B) int64 {
		query(b, "SELECT '"+benchMarker+"'")
		n, ok := <-marked
		if !ok {
			b.Fatal("the sensor's ring closed before the marker came")
		}
		return n
	}

	// measureAll measures run, which does b.N operations.
	measureAll := func(b *testing.B, run func(b *testing.B)) {
		n0 := mark(b)
		before := runTime(b, progs)
		b.ResetTimer()
		run(b)
		b.StopTimer()
		after := runTime(b, progs)
		n1 := mark(b)
		b.ReportMetric(float64(after.ns-before.ns)/float64(b.N), "bpf-ns/op")
		b.ReportMetric(float64(after.runs-before.runs)/float64(b.N), "runs/op")
		// The first marker's own records land after n0.
		b.ReportMetric(float64(n1-n0-markerRecords)/float64(b.N), "records/op")
	}
	measure := func(b *testing.B, op func(b *testing.B)) {
		measureAll(b, func(b *testing.B) {
			for range b.N {
				op(b)
			}
		})
	}

	b.Run("pipe", func(b *testing.B) {
		r, w, err := os.Pipe()
		if err != nil {
			b.Fatal(err)
		}
		defer r.Close()
		defer w.Close()
		msg, buf := make([]byte, 64), make([]byte, 64)
		measure(b, func(b *testing.B) {
			if _, err := w.Write(msg); err != nil {
				b.Fatal(err)
			}
			if _, err := io.ReadFull(r, buf); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("tcp-other", func(b *testing.B) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		defer ln.Close()
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		s, err := ln.Accept()
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		msg, buf := []byte(strings.Repeat("GET / HTTP/1.1\r\n", 4)), make([]byte, 64)
		measure(b, func(b *testing.B) {
			if _, err := c.Write(msg); err != nil {
				b.Fatal(err)
			}
			if _, err := io.ReadFull(s, buf); err != nil {
				b.Fatal(err)
			}
		})
	})
	if bin, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pgbench"); len(bin) > 0 {
		init := exec.Command(bin[len(bin)-1], "-i", "-q", "-s", "1", "-h", pg.Host, "-p", strconv.Itoa(pg.Port),
			"-U", pg.User, pg.Database)
		if out, err := init.CombinedOutput(); err != nil {
			b.Fatalf("pgbench -i: %v\n%s", err, out)
		}
	}
	b.Run("pgbench-select-only", func(b *testing.B) {
		measureAll(b, func(b *testing.B) { pgbench(b, pg, "-S") })
	})
	b.Run("pgbench-tpcb", func(b *testing.B) {
		measureAll(b, func(b *testing.B) { pgbench(b, pg) })
	})
	for _, q := range []struct{ name, sql string }{
		{"postgres-one-row", "SELECT 1"},
		{"postgres-20000-rows", "SELECT g, repeat('x', 100) FROM generate_series(1, 20000) g"},
	} {
		b.Run(q.name, func(b *testing.B) {
			measure(b, func(b *testing.B) { query(b, q.sql) })
		})
	}
}

// pgbench runs b.N transactions of pgbench (the built-in script named by
// its flags) on one connection to pg over TCP; an operation is a
// transaction, and both ends of the connection are captured.
func pgbench(b *testing.B, pg *testdb.Server, flags ...string) {
	bin, err := filepath.Glob("/usr/lib/postgresql/*/bin/pgbench")
	if err != nil || len(bin) == 0 {
		testenv.Skip(b, "pgbench is not installed (postgresql-contrib or postgresql)")
	}
	args := append([]string{"-h", pg.Host, "-p", strconv.Itoa(pg.Port), "-U", pg.User, "-n", "-c", "1",
		"-t", strconv.Itoa(b.N)}, flags...)
	if out, err := exec.Command(bin[len(bin)-1], append(args, pg.Database)...).CombinedOutput(); err != nil {
		b.Fatalf("pgbench %v: %v\n%s", flags, err, out)
	}
}

// benchMarker is the text of the statement that marks the end of a
// measurement in the ring.
const benchMarker = "vigil-bench-marker"

// markerRecords are a marker statement's records: its query sent and
// received, its answer sent and received.
const markerRecords = 4

// dbPrograms returns this process's db syscall programs.
func dbPrograms(b *testing.B) []*ebpf.Program {
	var out []*ebpf.Program
	for id := ebpf.ProgramID(0); ; {
		next, err := ebpf.ProgramGetNextID(id)
		if err != nil {
			break
		}
		id = next
		p, err := ebpf.NewProgramFromID(id)
		if err != nil {
			continue
		}
		info, err := p.Info()
		if err != nil || !strings.HasPrefix(info.Name, "db_exit_") || !ours(id) {
			p.Close()
			continue
		}
		out = append(out, p)
		b.Cleanup(func() { p.Close() })
	}
	if len(out) == 0 {
		b.Fatal("no db_exit_ programs of this process are loaded")
	}
	return out
}

// ours says whether this process holds program id open.
func ours(id ebpf.ProgramID) bool {
	entries, _ := os.ReadDir("/proc/self/fdinfo")
	for _, e := range entries {
		raw, err := os.ReadFile("/proc/self/fdinfo/" + e.Name())
		if err == nil && strings.Contains(string(raw), fmt.Sprintf("prog_id:\t%d\n", id)) {
			return true
		}
	}
	return false
}

type progRun struct{ ns, runs uint64 }

// runTime sums the kernel's run time and run count of progs.
func runTime(b *testing.B, progs []*ebpf.Program) progRun {
	var sum progRun
	for _, p := range progs {
		st, err := p.Stats()
		if err != nil {
			b.Fatal(err)
		}
		sum.ns += uint64(st.Runtime)
		sum.runs += st.RunCount
	}
	return sum
}
