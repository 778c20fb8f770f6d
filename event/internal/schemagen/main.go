package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
)

func main() {
	src := flag.String("src", "event.go", "the Go file whose structs are the schema")
	enc := flag.String("encoder", "", "write the JSON encoder's per-field code to this file")
	dec := flag.String("decoder", "", "write the JSON decoder's per-field mapping to this file")
	fields := flag.String("rules-fields", "", "write the rules package's field table to this file")
	eventsMD := flag.String("events-doc", "", "rewrite the field tables of this markdown file (docs/events.md)")
	rulesMD := flag.String("rules-doc", "", "rewrite the rule field table of this markdown file (docs/rules.md)")
	flag.Parse()
	if err := run(*src, *enc, *dec, *fields, *eventsMD, *rulesMD); err != nil {
		fmt.Fprintln(os.Stderr, "schemagen:", err)
		os.Exit(1)
	}
}

func run(src, enc, dec, fields, eventsMD, rulesMD string) error {
	s, err := load(src)
	if err != nil {
		return fmt.Errorf("reading the schema: %w", err)
	}
	for _, out := range []struct {
		path string
		gen  func(*schema) ([]byte, error)
	}{{enc, encoder}, {dec, decoder}, {fields, rulesFields}} {
		if out.path == "" {
			continue
		}
		b, err := out.gen(s)
		if err != nil {
			return fmt.Errorf("writing %s: %w", out.path, err)
		}
		if err := write(out.path, b); err != nil {
			return err
		}
	}
	for _, out := range []struct {
		path   string
		splice func(*schema, []byte) ([]byte, error)
	}{{eventsMD, eventsDoc}, {rulesMD, rulesDoc}} {
		if out.path == "" {
			continue
		}
		doc, err := os.ReadFile(out.path)
		if err != nil {
			return err
		}
		b, err := out.splice(s, doc)
		if err != nil {
			return fmt.Errorf("%s: %w", out.path, err)
		}
		if err := write(out.path, b); err != nil {
			return err
		}
	}
	return nil
}

// write writes b to path unless it holds b already, so an unchanged output
// keeps its time stamp.
func write(path string, b []byte) error {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, b) {
		return nil
	}
	return os.WriteFile(path, b, 0o644)
}
