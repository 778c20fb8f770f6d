// Package event defines the events vigil's agent emits and its collector and
// rules consume. It is the one schema shared by agent, rules and collector and
// depends on the standard library only. docs/events.md documents every field.
//
// The structs of event.go are the schema's one source: their tags say what
// each copy needs (event/internal/schemagen lists them), and make
// generate-schema writes the copies, so that adding a field is one line.
package event
