package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigilhq/vigil/agent/sensor/inject"
)

func main() {
	mode := flag.String("mode", "files", "files: create, write, close small files; tcp: short loopback TCP connections; "+
		"ring: file.write records injected into the ring of the agent -pid (root)")
	pid := flag.Int("pid", 0, "ring mode: the agent's pid")
	rate := flag.Int("rate", 0, "operations per second, all workers together (0: as fast as possible)")
	dur := flag.Duration("duration", 5*time.Second, "how long to run")
	dir := flag.String("dir", os.TempDir(), "directory for files mode")
	size := flag.Int("size", 128, "bytes per write")
	writes := flag.Int("writes", 1, "files mode: writes per file opened")
	workers := flag.Int("workers", 1, "goroutines issuing operations (each with its own OS thread while in a syscall)")
	flag.Parse()
	if *workers < 1 || *writes < 1 {
		fail(fmt.Errorf("-workers and -writes must be at least 1"))
	}

	if *mode == "ring" {
		if err := ring(*pid, *rate, *dur); err != nil {
			fail(err)
		}
		return
	}
	buf := make([]byte, *size)
	var op func(worker, i int) error
	switch *mode {
	case "files":
		d, err := os.MkdirTemp(*dir, "vigil-loadgen-")
		if err != nil {
			fail(err)
		}
		defer os.RemoveAll(d)
		op = func(worker, i int) error {
			f, err := os.Create(filepath.Join(d, fmt.Sprintf("w%d-f%d", worker, i%1000)))
			if err != nil {
				return err
			}
			for range *writes {
				if _, err := f.Write(buf); err != nil {
					f.Close()
					return err
				}
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
				go func() { _, _ = io.Copy(io.Discard, c); c.Close() }()
			}
		}()
		op = func(int, int) error {
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				return err
			}
			if _, err := c.Write(buf); err != nil {
				c.Close()
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
		interval = time.Second * time.Duration(*workers) / time.Duration(*rate)
	}
	var total atomic.Int64
	var wg sync.WaitGroup
	for w := range *workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := 0
			for time.Since(start) < *dur {
				if err := op(w, n); err != nil {
					fail(err)
				}
				n++
				if interval > 0 {
					// Pace against the schedule, not the previous op, so the rate holds.
					if ahead := time.Until(start.Add(time.Duration(n) * interval)); ahead > 0 {
						time.Sleep(ahead)
					}
				}
			}
			total.Add(int64(n))
		}()
	}
	wg.Wait()
	el := time.Since(start)
	n := total.Load()
	fmt.Printf("ops=%d seconds=%.3f rate=%.0f/s\n", n, el.Seconds(), float64(n)/el.Seconds())
}

// ring injects records into the ring of the agent running as pid, at rate
// records/s (it needs one) for dur. Every millisecond it offers what the
// rate owes since the start, so a late tick makes up for itself at the
// next. It prints what it offered and how many found the ring full.
func ring(pid, rate int, dur time.Duration) error {
	if pid <= 0 || rate <= 0 {
		return fmt.Errorf("ring mode needs -pid and -rate")
	}
	rb, err := inject.FindRing(pid)
	if err != nil {
		return err
	}
	defer rb.Close()
	in, err := inject.New(rb, inject.Self("/dev/shm/vigil-loadgen-ring/f-"))
	if err != nil {
		return err
	}
	defer in.Close()
	t := time.NewTicker(time.Millisecond)
	defer t.Stop()
	start := time.Now()
	sent := 0
	for now := start; ; now = <-t.C {
		at := min(now.Sub(start), dur)
		if due := int(float64(rate)*at.Seconds()) - sent; due > 0 {
			if err := in.Inject(due); err != nil {
				return err
			}
			sent += due
		}
		if at == dur {
			break
		}
	}
	el := time.Since(start)
	full, err := in.Drops()
	if err != nil {
		return err
	}
	fmt.Printf("ops=%d seconds=%.3f rate=%.0f/s ring_full=%d\n", sent, el.Seconds(), float64(sent)/el.Seconds(), full)
	return nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "loadgen:", err)
	os.Exit(1)
}
