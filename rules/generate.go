package rules

// The event schema is the structs of event/event.go; this writes its copies
// that belong to rules: the field table and docs/rules.md's list of fields.

//go:generate go run ../event/internal/schemagen -src ../event/event.go -rules-fields fields_gen.go -rules-doc ../docs/rules.md
