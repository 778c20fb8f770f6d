package db

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"

	"github.com/vigilhq/vigil/agent/sensor"
)

// sslProbes are the OpenSSL calls probed: program names at entry and
// return. The _ex calls are optional (OpenSSL before 1.1.1 has none).
var sslProbes = []struct {
	symbol    string
	entry, rt string
}{
	{"SSL_write", "ssl_write", "ssl_write_ret"},
	{"SSL_read", "ssl_read", "ssl_read_ret"},
	{"SSL_write_ex", "ssl_write_ex", "ssl_write_ex_ret"},
	{"SSL_read_ex", "ssl_read_ex", "ssl_read_ex_ret"},
}

// probeProgramNames lists every program the TLS probes use, in a fixed
// order: the attacher process receives their descriptors in this order.
func probeProgramNames() []string {
	var out []string
	for _, p := range sslProbes {
		out = append(out, p.entry, p.rt)
	}
	for _, f := range goTLSFuncs {
		out = append(out, f.entry)
	}
	return append(out, goTLSRet)
}

// probeFile checks what f is and probes it: the file itself is judged, not
// what the caller says of it, since the attacher process trusts nothing the
// agent sends. It returns the links (nil for a file that takes no probes)
// and the kind found.
func probeFile(f *os.File, progs map[string]*ebpf.Program) (sensor.Links, string, error) {
	kind, funcs, err := inspect(f)
	if err != nil || kind == kindNone {
		return nil, kind, err
	}
	// The kernel resolves a uprobe's path when it attaches: through the
	// open descriptor it is the file judged, whatever the path names now.
	path := fmt.Sprintf("/proc/self/fd/%d", f.Fd())
	ex, err := link.OpenExecutable(path)
	if err != nil {
		return nil, kind, fmt.Errorf("opening %s for uprobes: %w", f.Name(), err)
	}
	if kind == kindGoTLS {
		links, err := probeGo(ex, f.Name(), funcs, progs)
		return links, kind, err
	}
	var links sensor.Links
	for _, p := range sslProbes {
		l, err := ex.Uprobe(p.symbol, progs[p.entry], nil)
		if errors.Is(err, link.ErrNoSymbol) && strings.HasSuffix(p.symbol, "_ex") {
			continue
		}
		if err != nil {
			links.Close()
			return nil, kind, fmt.Errorf("probing %s in %s: %w", p.symbol, f.Name(), err)
		}
		links = append(links, l)
		r, err := ex.Uretprobe(p.symbol, progs[p.rt], nil)
		if err != nil {
			links.Close()
			return nil, kind, fmt.Errorf("probing the return of %s in %s: %w", p.symbol, f.Name(), err)
		}
		links = append(links, r)
	}
	return links, kind, nil
}

// probeGo probes each Go function at its entry and at every RET.
func probeGo(ex *link.Executable, name string, funcs []goFunc, progs map[string]*ebpf.Program) (sensor.Links, error) {
	var links sensor.Links
	for i, fn := range funcs {
		l, err := ex.Uprobe(fn.name, progs[goTLSFuncs[i].entry], &link.UprobeOptions{Address: fn.entry})
		if err != nil {
			links.Close()
			return nil, fmt.Errorf("probing %s in %s: %w", fn.name, name, err)
		}
		links = append(links, l)
		for _, ret := range fn.rets {
			l, err := ex.Uprobe(fn.name, progs[goTLSRet], &link.UprobeOptions{Address: ret})
			if err != nil {
				links.Close()
				return nil, fmt.Errorf("probing a return of %s in %s at %#x: %w", fn.name, name, ret, err)
			}
			links = append(links, l)
		}
	}
	return links, nil
}
