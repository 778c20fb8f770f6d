package event

// The structs in event.go are the schema; these write its copies that
// belong to this package and docs/events.md. Run make generate-schema after
// changing a struct (rules/generate.go writes the rules package's copies).

//go:generate go run ./internal/schemagen -src event.go -encoder json_gen.go -decoder decode_gen.go -events-doc ../docs/events.md
