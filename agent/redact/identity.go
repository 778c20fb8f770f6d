package redact

import (
	"fmt"
	"slices"
	"strings"
)

// Rules match tables by name, so Result.Tables names each table by its
// identity, whatever the spelling: the last part of a qualified name
// (public.customers, shop.customers), unquoted ("Customers", `customers`),
// lower case. A view or synonym configured with its base tables adds them.

// tableName returns the table name v refers to and its last part as
// written (the form a column's qualifier may use).
func tableName(v string, d Dialect) (name, written string) {
	if n, ok := simpleName(v); ok {
		return n, n
	}
	parts := splitQualified(v, d)
	written = parts[len(parts)-1]
	return strings.ToLower(written), written
}

// newViews normalises the configured views: each name and base table by
// tableName, bases without repeats.
func newViews(cfg map[string][]string) (map[string][]string, error) {
	if len(cfg) == 0 {
		return nil, nil
	}
	out := make(map[string][]string, len(cfg))
	for view, bases := range cfg {
		name, _ := tableName(strings.TrimSpace(view), MySQL)
		if name == "" {
			return nil, fmt.Errorf("redact: view %q has no name", view)
		}
		if len(bases) == 0 {
			return nil, fmt.Errorf("redact: view %q names no base table", view)
		}
		for _, b := range bases {
			base, _ := tableName(strings.TrimSpace(b), MySQL)
			if base == "" {
				return nil, fmt.Errorf("redact: view %q has an empty base table", view)
			}
			if base != name && !slices.Contains(out[name], base) {
				out[name] = append(out[name], base)
			}
		}
	}
	return out, nil
}

// withBases returns tables followed by the base tables of the views among
// them, each once; tables itself when no view is among them.
func withBases(tables []string, views map[string][]string) []string {
	var out []string
	for _, t := range tables {
		for _, b := range views[t] {
			if slices.Contains(tables, b) || slices.Contains(out, b) {
				continue
			}
			if out == nil {
				out = slices.Clip(slices.Clone(tables))
			}
			out = append(out, b)
		}
	}
	if out == nil {
		return tables
	}
	return out
}

// CursorOp says what a statement does with a cursor.
type CursorOp uint8

// Cursor operations.
const (
	CursorNone CursorOp = iota
	// CursorOpen declares a cursor over a query (PostgreSQL DECLARE) or
	// opens a table for reading (MySQL HANDLER ... OPEN).
	CursorOpen
	// CursorRead reads rows through it (FETCH, MOVE, HANDLER ... READ).
	CursorRead
	// CursorClose ends it (CLOSE, HANDLER ... CLOSE); with an empty
	// Result.Cursor, every cursor (CLOSE ALL, DISCARD ALL).
	CursorClose
)

// cursorOf returns the cursor a statement of command cmd declares, reads or
// closes. Cursor names are identifiers, never literal values.
func cursorOf(d Dialect, toks []token, cmd string) (string, CursorOp) {
	name := func(i int) string {
		if i < 0 || i >= len(toks) || !isWord(toks[i]) {
			return ""
		}
		_, written := tableName(toks[i].val, d)
		return written
	}
	switch cmd {
	case "DECLARE":
		if declaredQuery(toks) > 0 {
			return name(1), CursorOpen
		}
	case "FETCH", "MOVE":
		// FETCH [direction [count]] [FROM | IN] name: the name comes last.
		if n := name(len(toks) - 1); n != "" && len(toks) > 1 {
			return n, CursorRead
		}
	case "CLOSE":
		if len(toks) == 2 && upperIs(toks[1].val, "ALL") {
			return "", CursorClose
		}
		if n := name(1); n != "" && len(toks) == 2 {
			return n, CursorClose
		}
	case "DISCARD":
		if len(toks) == 2 && upperIs(toks[1].val, "ALL") {
			return "", CursorClose
		}
	case "HANDLER":
		// HANDLER t OPEN [[AS] alias] | HANDLER t READ ... | HANDLER t CLOSE
		if len(toks) < 3 || toks[1].kind != kIdent {
			break
		}
		tbl, _ := tableName(toks[1].val, d)
		switch {
		case upperIs(toks[2].val, "OPEN"):
			alias := tbl
			switch {
			case len(toks) == 5 && upperIs(toks[3].val, "AS"):
				alias = name(4)
			case len(toks) == 4:
				alias = name(3)
			}
			if alias != "" {
				return strings.ToLower(alias), CursorOpen
			}
		case upperIs(toks[2].val, "READ"):
			return tbl, CursorRead
		case upperIs(toks[2].val, "CLOSE"):
			return tbl, CursorClose
		}
	}
	return "", CursorNone
}

// declaredQuery returns the index of the first token of the query a
// DECLARE name ... CURSOR ... FOR query declares, or 0 when toks is no
// such statement.
func declaredQuery(toks []token) int {
	cursor := false
	for i := 2; i < len(toks); i++ {
		switch {
		case !isWord(toks[i]):
			return 0
		case upperIs(toks[i].val, "CURSOR"):
			cursor = true
		case cursor && upperIs(toks[i].val, "FOR") && i+1 < len(toks):
			return i + 1
		}
	}
	return 0
}
