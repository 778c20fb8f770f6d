package sensor

import (
	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
)

// Builds picks between a sensor's two builds of one BPF source: the default
// one, and a compat one for kernels that cannot load it, whose maps and
// programs have the same names. The zero value picks by the kernel.
type Builds struct {
	// ForceCompat makes Load pick the compat build whatever the kernel
	// (tests).
	ForceCompat bool
	// Compat says which build Load picked.
	Compat bool
}

// Load returns the default build's spec from def when defaultRuns says the
// kernel can run it, else the compat build's from compat.
func (b *Builds) Load(defaultRuns func() bool, def, compat func() (*ebpf.CollectionSpec, error)) (*ebpf.CollectionSpec, error) {
	b.Compat = b.ForceCompat || !defaultRuns()
	if b.Compat {
		return compat()
	}
	return def()
}

// String names the build Load picked: "default" or "compat".
func (b *Builds) String() string {
	if b.Compat {
		return "compat"
	}
	return "default"
}

// HaveKfunc says whether the kernel's BTF has the kfunc name; false when the
// kernel has no BTF.
func HaveKfunc(name string) bool {
	spec, err := btf.LoadKernelSpec()
	if err != nil {
		return false
	}
	var fn *btf.Func
	return spec.TypeByName(name, &fn) == nil
}
