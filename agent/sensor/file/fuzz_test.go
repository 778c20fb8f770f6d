package file_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/vigilhq/vigil/agent/sensor"
	"github.com/vigilhq/vigil/agent/sensor/file"
)

// Decoding any bytes fails cleanly or yields a record; it never panics.
func FuzzDecode(f *testing.F) {
	// The recorded sample is committed: without it the fuzzer would lose
	// its one real seed without a word.
	raw, err := os.ReadFile(filepath.Join("testdata", "file_write.bin"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(uint32(sensor.RecFileWrite), raw)
	f.Add(uint32(sensor.RecFileRename), make([]byte, 2000))
	f.Fuzz(func(t *testing.T, typ uint32, raw []byte) {
		r, err := file.Decode(typ, raw)
		if err == nil && r == nil {
			t.Fatal("no record and no error")
		}
	})
}
