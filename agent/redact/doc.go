// Package redact turns SQL text into something vigil may keep: literal values
// replaced by ?, a fingerprint of the normalised statement, the command, the
// tables and columns it names, and keyed hashes of the values it compares with
// configured identifier columns. It works on text only (no I/O) and is fed by
// agent/dbwire.
//
// # Use
//
// New builds a Redactor from a Config holding the per-deployment hashing key
// and the identifier columns. A Redactor is safe for concurrent use. Split
// cuts text holding several statements at top-level semicolons; Redact
// redacts one statement into a Result; AddIdentifier adds the hash of a value
// bound to a placeholder that Result.Params names, for callers (the wire
// protocol trackers) that saw the bound values.
//
// # Failing closed
//
// Text the lexer cannot account for, text that does not start like SQL, text
// whose literals a server setting the agent cannot see
// (standard_conforming_strings, NO_BACKSLASH_ESCAPES) could split differently,
// and PostgreSQL's nested block comments (which the lexer would end at the
// first */) become Unparsable with a keyed hash, never the raw text.
// leak_test.go plants a marker in every literal and comment form of both
// dialects at every position of generated statements and fails if it
// survives in any field; FuzzNoLiteralSurvives does the same with fuzzed
// text. With
// Config.Disabled the statement is kept verbatim (capped) instead.
//
// # Caches
//
// Two caches answer repeated statements without doing the work again. Neither
// can carry a literal from one statement into another's result: entries hold
// only what the statement's shape determines, and identifier hashes are
// always taken from each statement's own literals.
//
// The shape cache (shape.go) is keyed by a statement's shape: its dialect and
// tokens with every literal's text left out. Everything Redact reports but the
// identifier hashes is computed from the shape alone, so statements of one
// shape (pgbench's UPDATE with different numbers) share the statement,
// fingerprint, command, tables, columns and placeholders, and skip the
// analysis and rendering. An entry records the token positions of the
// literals compared with identifier columns.
//
// The pre-lex cache (prelex.go) also skips the lexer, which is most of what a
// shape hit leaves. Its scan reads a strict subset of SQL by hand: words,
// white space, plain punctuation, unsigned decimal numbers, single-quoted
// strings with only a doubled quote as escape, and $n placeholders. For such
// text it returns a key (the text with each literal replaced by a marker of
// its kind) and the byte span of every literal. Text outside the subset
// (comments, any other quote, backslashes, dollar quoting, prefixed strings,
// other number forms, non-ASCII bytes, control characters) goes the full way.
//
// The pre-lex contract: within the subset, the lexer's reading of the text
// around a literal does not depend on the literal's value. Nothing the subset
// allows right before a literal can extend a token into it (no letter, digit,
// dot, quote, $ or @; a letter would make E'x' an escape string), nothing right
// after a number can extend it (no letter, digit or dot), and the lexer's
// token types depend on the text, not on earlier tokens. So two texts with one
// key have one shape and their literals in the same places. The scan is no
// proof of that, so an entry is made only on the full path, after checking
// that the lexer found exactly the scan's literals: as many, of the same
// kinds, at the same byte spans (a number may have taken the sign before it,
// which the entry remembers). A key whose text the lexer reads otherwise is
// never cached and keeps the full path. An entry points at the shape the
// full path used, so its result is the shape cache's; identifier hashes come
// from each statement's own literals through the spans.
package redact
