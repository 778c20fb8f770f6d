// loadgen produces host activity at a set rate for vigil's benchmarks:
// small file writes (one file.write event each) or short TCP connections.
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"time"
)

func main() {
	mode := flag.String("mode", "files", "files: create, write, close small files; tcp: short loopback TCP connections")
	rate := flag.Int("rate", 0, "operations per second (0: as fast as possible)")
	dur := flag.Duration("duration", 5*time.Second, "how long to run")
	dir := flag.String("dir", os.TempDir(), "directory for files mode")
	size := flag.Int("size", 128, "bytes per operation")
	flag.Parse()

	buf := make([]byte, *size)
	var op func(i int) error
	switch *mode {
	case "files":
		d, err := os.MkdirTemp(*dir, "vigil-loadgen-")
		if err != nil {
			fail(err)
		}
		defer os.RemoveAll(d)
		op = func(i int) error {
			f, err := os.Create(filepath.Join(d, fmt.Sprintf("f%d", i%1000)))
			if err != nil {
				return err
			}
			if _, err := f.Write(buf); err != nil {
				return err
			}
			return f.Close()
		}
	case "tcp":
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			fail(err)
		}
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				go func() { io.Copy(io.Discard, c); c.Close() }()
			}
		}()
		op = func(int) error {
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				return err
			}
			if _, err := c.Write(buf); err != nil {
				return err
			}
			return c.Close()
		}
	default:
		fail(fmt.Errorf("unknown mode %q", *mode))
	}

	start := time.Now()
	var interval time.Duration
	if *rate > 0 {
		interval = time.Second / time.Duration(*rate)
	}
	n := 0
	for time.Since(start) < *dur {
		if err := op(n); err != nil {
			fail(err)
		}
		n++
		if interval > 0 {
			// Pace against the schedule, not the previous op, so the rate holds.
			if ahead := start.Add(time.Duration(n) * interval).Sub(time.Now()); ahead > 0 {
				time.Sleep(ahead)
			}
		}
	}
	el := time.Since(start)
	fmt.Printf("ops=%d seconds=%.3f rate=%.0f/s\n", n, el.Seconds(), float64(n)/el.Seconds())
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "loadgen:", err)
	os.Exit(1)
}
