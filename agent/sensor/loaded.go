package sensor

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

// Loaded is a sensor's collection with its attached programs. Sensors embed
// it to share loading, attaching by section name, drops and Close.
type Loaded struct {
	Coll  *ebpf.Collection
	Links Links
}

// Load loads spec wired to env's ring buffer and attaches every program
// whose section says where (tracepoint/, tp_btf/, raw_tracepoint/). Programs
// of other types are left for the sensor to attach. On error nothing stays
// loaded.
func (l *Loaded) Load(spec *ebpf.CollectionSpec, env Env) error {
	opts, err := env.Prepare(spec)
	if err != nil {
		return err
	}
	l.Coll, err = ebpf.NewCollectionWithOptions(spec, *opts)
	if err != nil {
		return fmt.Errorf("loading programs: %w", err)
	}
	names := make([]string, 0, len(spec.Programs))
	for name := range spec.Programs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		section := spec.Programs[name].SectionName
		prog := l.Coll.Programs[name]
		var lk link.Link
		switch {
		case strings.HasPrefix(section, "tracepoint/"):
			if err = ensureTracefs(); err != nil {
				break
			}
			group, event, ok := strings.Cut(strings.TrimPrefix(section, "tracepoint/"), "/")
			if !ok {
				err = fmt.Errorf("section %q names no tracepoint", section)
				break
			}
			lk, err = link.Tracepoint(group, event, prog, nil)
		case strings.HasPrefix(section, "tp_btf/"):
			lk, err = link.AttachTracing(link.TracingOptions{Program: prog})
		case strings.HasPrefix(section, "raw_tracepoint/"):
			lk, err = link.AttachRawTracepoint(link.RawTracepointOptions{
				Name: strings.TrimPrefix(section, "raw_tracepoint/"), Program: prog})
		default:
			continue
		}
		if err != nil {
			l.Close()
			return fmt.Errorf("attaching %s (%s): %w", name, section, err)
		}
		l.Links = append(l.Links, lk)
	}
	return nil
}

// Drops reads the collection's drops map.
func (l *Loaded) Drops() (map[string]uint64, error) {
	if l.Coll == nil {
		return nil, errors.New("sensor not loaded")
	}
	return ReadDrops(l.Coll.Maps["drops"])
}

// Close detaches and unloads everything.
func (l *Loaded) Close() error {
	err := l.Links.Close()
	l.Links = nil
	if l.Coll != nil {
		l.Coll.Close()
		l.Coll = nil
	}
	return err
}

// ensureTracefs mounts tracefs when it is not mounted: tracepoint programs
// are attached by the ids tracefs lists. Minimal hosts and containers often
// lack the mount.
func ensureTracefs() error {
	if _, err := os.Stat("/sys/kernel/tracing/events"); err == nil {
		return nil
	}
	if _, err := os.Stat("/sys/kernel/debug/tracing/events"); err == nil {
		return nil
	}
	if err := unix.Mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, ""); err != nil {
		return fmt.Errorf("mounting tracefs on /sys/kernel/tracing: %w", err)
	}
	return nil
}

// Links closes a group of attached programs.
type Links []link.Link

// Close detaches them all.
func (l Links) Close() error {
	var errs []error
	for _, k := range l {
		errs = append(errs, k.Close())
	}
	return errors.Join(errs...)
}
