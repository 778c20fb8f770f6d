// Command schemagen writes every copy of the event schema from the one
// source, the structs of event/event.go and their tags, so that adding a
// field is one line there and a make generate-schema: the JSON encoder and
// decoder mapping of package event, the table of fields rules read, and the
// field tables of docs/events.md and docs/rules.md. It reads event.go with
// go/parser rather than importing the package, so it runs even when the
// package no longer compiles against stale generated code.
//
// The tags it reads, beside json:
//
//	doc:"One sentence."   what the field means, for the docs; 'word' becomes `word`
//	kinds:"a.b,c.d"       on a payload field of Event: the kinds that carry it (none: every kind)
//	rule:"-"              rules cannot read the field
//	rule:"derived"        rules read it through a hand-written accessor in rules/fields.go
//
// event/generate.go and rules/generate.go run it, each for its own files.
package main
