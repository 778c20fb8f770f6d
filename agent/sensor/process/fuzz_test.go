package process_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/vigilhq/vigil/agent/sensor"
	"github.com/vigilhq/vigil/agent/sensor/process"
)

// Decoding any bytes fails cleanly or yields a record; it never panics.
func FuzzDecode(f *testing.F) {
	// The recorded sample is committed: without it the fuzzer would lose
	// its one real seed without a word.
	raw, err := os.ReadFile(filepath.Join("testdata", "exec.bin"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(uint32(sensor.RecExec), raw)
	f.Add(uint32(sensor.RecExit), make([]byte, 80))
	f.Add(uint32(sensor.RecFork), make([]byte, 10))
	f.Fuzz(func(t *testing.T, typ uint32, raw []byte) {
		r, err := process.Decode(typ, raw)
		if err == nil && r == nil {
			t.Fatal("no record and no error")
		}
	})
}
