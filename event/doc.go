// Package event defines the events vigil's agent emits and its collector and
// rules consume. It is the one schema shared by agent, rules and collector and
// depends on the standard library only. docs/events.md documents every field.
package event
