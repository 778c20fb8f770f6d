package redact

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"
)

// Dialect selects the lexing rules (quotes, escapes, comments) of an engine.
type Dialect int

// Dialects.
const (
	Postgres Dialect = iota + 1
	MySQL
	// MySQLNoBackslashEscapes is MySQL with sql_mode NO_BACKSLASH_ESCAPES
	// (the server flags it in its OK packets).
	MySQLNoBackslashEscapes
)

// Unparsable is the statement reported for text that cannot be redacted safely.
const Unparsable = "<unparsable>"

// DefaultMaxStatement is the default length, in bytes, of a redacted statement.
const DefaultMaxStatement = 4096

// maxInput bounds the text lexed for one statement; the rest is cut (and any
// literal cut in half is still replaced).
const maxInput = 256 << 10

// ErrNoKey is returned by New when no hashing key is configured.
var ErrNoKey = errors.New("redact: a deployment key is required")

// Config configures a Redactor.
type Config struct {
	// Key is the per-deployment secret for keyed hashes (HMAC-SHA256).
	Key []byte
	// IdentifierColumns names the columns whose compared values are reported
	// as keyed hashes: "table.column" or "column" (any table).
	IdentifierColumns []string
	// Identifiers names groups of such columns: the hashes of values
	// compared with any column of a group are reported under its name, so
	// rules count one identifier however the schema spells it.
	Identifiers map[string][]string
	// MaxStatement caps the redacted statement in bytes (default
	// DefaultMaxStatement).
	MaxStatement int
	// Disabled turns redaction off: statements and error messages are kept
	// verbatim (still capped). Hashes, fingerprints and tables still work.
	Disabled bool
	// Views maps a view or synonym to the base tables it reads, so that a
	// statement naming it also reports them in Result.Tables. Names are
	// compared as Result.Tables gives them (last part, lower case).
	Views map[string][]string
}

// Redactor redacts statements. It is safe for concurrent use.
type Redactor struct {
	key      []byte
	maxStmt  int
	disabled bool
	idCols   []idColumn
	views    map[string][]string  // by tableName
	shapes   *cache[*shape]       // nil when redaction is off
	prelex   *cache[*prelexEntry] // statements answered without lexing; nil when redaction is off
}

type idColumn struct {
	name   string // as configured, the key in Result.Identifiers
	table  string // lower case, "" for any table
	column string // lower case
}

// New returns a Redactor for cfg.
func New(cfg Config) (*Redactor, error) {
	if len(cfg.Key) == 0 {
		return nil, ErrNoKey
	}
	r := &Redactor{key: append([]byte(nil), cfg.Key...), maxStmt: cfg.MaxStatement, disabled: cfg.Disabled}
	if r.maxStmt <= 0 {
		r.maxStmt = DefaultMaxStatement
	}
	views, err := newViews(cfg.Views)
	if err != nil {
		return nil, err
	}
	r.views = views
	if !r.disabled {
		r.shapes = newCache[*shape]()
		r.prelex = newCache[*prelexEntry]()
	}
	type named struct{ name, column string }
	var cols []named
	for _, c := range cfg.IdentifierColumns {
		cols = append(cols, named{c, c})
	}
	names := make([]string, 0, len(cfg.Identifiers))
	for n := range cfg.Identifiers {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		for _, c := range cfg.Identifiers[n] {
			cols = append(cols, named{n, c})
		}
	}
	for _, nc := range cols {
		c := strings.TrimSpace(nc.column)
		if c == "" {
			continue
		}
		name := nc.name
		if name == nc.column {
			name = c
		}
		parts := splitQualified(c, MySQL)
		ic := idColumn{name: name, column: parts[len(parts)-1]}
		if len(parts) > 1 {
			ic.table = parts[len(parts)-2]
		}
		if ic.column == "" {
			return nil, fmt.Errorf("redact: identifier column %q has no column name", c)
		}
		r.idCols = append(r.idCols, ic)
	}
	return r, nil
}

// Disabled reports whether redaction is off.
func (r *Redactor) Disabled() bool { return r.disabled }

// Result is what may be reported about one statement.
type Result struct {
	// Statement is the redacted statement, or Unparsable.
	Statement string
	// Fingerprint is a stable hash of the normalised statement (keyed hash of
	// the raw text when unparsable).
	Fingerprint string
	Command     string
	// Tables are the tables the statement names, each by its identity: the
	// last part of a qualified name, unquoted, lower case; then the base
	// tables of configured views among them.
	Tables []string
	// Columns are the columns the statement names.
	Columns []string
	// Cursor is the cursor the statement declares, reads or closes
	// (CursorOp says which): PostgreSQL DECLARE, FETCH, MOVE and CLOSE,
	// MySQL HANDLER.
	Cursor   string   `json:",omitempty"`
	CursorOp CursorOp `json:",omitempty"`
	// Identifiers maps a configured identifier column to keyed hashes of the
	// literal values compared with it.
	Identifiers map[string][]string
	// Params maps a bind placeholder ($n in PostgreSQL, the n-th ? in MySQL,
	// counting from 1) compared with an identifier column to that column, so a
	// caller holding the bound values can hash them with AddIdentifier.
	Params map[int]string
	// Unparsable is set when the statement failed closed.
	Unparsable bool
	// Truncated is set when the statement or its output was cut.
	Truncated bool
}

// Hash returns the keyed hash (HMAC-SHA256, 128 bits, hex) of b.
func (r *Redactor) Hash(b []byte) string {
	m := hmac.New(sha256.New, r.key)
	m.Write(b)
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// IdentifierHash returns the keyed hash of an identifier value after
// normalisation (surrounding space trimmed, lower case), so 'A@x.com ' and
// 'a@x.com' count as one customer and 5 and '5' as one id.
func (r *Redactor) IdentifierHash(value string) string {
	return r.Hash([]byte(strings.ToLower(strings.TrimSpace(value))))
}

// AddIdentifier records the hash of value under column in res.
func (r *Redactor) AddIdentifier(res *Result, column, value string) {
	h := r.IdentifierHash(value)
	if res.Identifiers == nil {
		res.Identifiers = map[string][]string{}
	}
	for _, have := range res.Identifiers[column] {
		if have == h {
			return
		}
	}
	res.Identifiers[column] = append(res.Identifiers[column], h)
	sort.Strings(res.Identifiers[column])
}

// failClosed is the result for text that cannot be redacted safely.
func (r *Redactor) failClosed(sql string) Result {
	if r.disabled {
		return Result{Statement: r.capRaw(sql), Fingerprint: r.Hash([]byte(sql)), Unparsable: true}
	}
	return Result{Statement: Unparsable, Fingerprint: r.Hash([]byte(sql)), Unparsable: true}
}

func (r *Redactor) capRaw(s string) string {
	if len(s) <= r.maxStmt {
		return s
	}
	cut := r.maxStmt
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// Redact redacts one statement. Use Split first for text holding several.
func (r *Redactor) Redact(d Dialect, sql string) Result {
	truncated := false
	if len(sql) > maxInput {
		sql = sql[:maxInput]
		truncated = true
	}
	sql = strings.TrimRight(sql, " \t\r\n;\x00")
	sql = strings.TrimLeft(sql, " \t\r\n")
	if sql == "" {
		return Result{Command: "", Statement: "", Fingerprint: ""}
	}
	noBackslash := d == MySQLNoBackslashEscapes
	if noBackslash {
		d = MySQL
	}
	if d != MySQL {
		d = Postgres
	}
	s := getScratch()
	defer s.put()
	// The pre-lex scan accepts only printable ASCII without backslashes,
	// which plausibleText and the backslash checks below would pass; cut
	// text is left to the full path.
	var pkey []byte
	var spans []litSpan
	if r.prelex != nil && !truncated {
		// Text outside the scan's subset gives a nil key: the full way.
		if pkey, spans, _ = s.prelexScan(d, sql); pkey != nil {
			if e, hit := r.prelex.get(pkey); hit {
				return e.result(r, d, sql, spans)
			}
		}
	}
	if !plausibleText(sql, truncated) {
		return r.failClosed(sql)
	}
	toks, ok := lex(s.toks[:0], d, sql)
	s.toks = toks
	if !ok {
		return r.failClosed(sql)
	}
	if noBackslash {
		if strings.ContainsRune(sql, '\\') {
			// The lexer only knows MySQL with backslash escapes: when the
			// server's reading may split literals differently, fail closed.
			alt, ok := lexAlt(s.alt[:0], MySQL, sql)
			s.alt = alt
			if !ok || !sameShape(toks, alt) {
				return r.failClosed(sql)
			}
		}
	}
	if d == Postgres && strings.ContainsRune(sql, '\\') {
		// Backslash escapes depend on standard_conforming_strings, which the
		// agent cannot see: if the other reading splits literals
		// differently, a value could surface as an identifier.
		alt, ok := lexAlt(s.alt[:0], d, sql)
		s.alt = alt
		if !ok || !sameShape(toks, alt) {
			return r.failClosed(sql)
		}
	}
	cmd, ok := command(toks)
	if !ok {
		return r.failClosed(sql)
	}
	var key []byte
	if r.shapes != nil {
		key = s.shapeKey(d, toks)
		if len(key) > maxShapeKey {
			key = nil
		} else if sh, ok := r.shapes.get(key); ok {
			if pkey != nil {
				r.learnPrelex(pkey, spans, sql, toks, sh)
			}
			return sh.result(r, d, toks, truncated)
		}
	}
	res := Result{Command: cmd, Truncated: truncated}
	a := s.analyse(d, toks, cmd, len(r.idCols) > 0)
	res.Tables = withBases(cloneStrings(a.tables), r.views)
	res.Columns = cloneStrings(a.columns)
	res.Cursor, res.CursorOp = cursorOf(d, toks, cmd)
	var params []paramRef
	var ids []idRef
	for _, cmp := range a.comparisons {
		for _, ic := range r.idCols {
			if !ic.matches(cmp.col, a, r.views) {
				continue
			}
			for _, v := range cmp.values {
				ids = append(ids, idRef{column: ic.name, tok: v})
			}
			for _, p := range cmp.params {
				params = append(params, paramRef{n: p, column: ic.name})
			}
		}
	}
	r.applyRefs(&res, d, toks, params, ids)
	s.render(s.collapse(toks))
	sum := sha256.Sum256(s.norm)
	res.Fingerprint = hex.EncodeToString(sum[:8])
	stmt := sql
	if !r.disabled {
		stmt = string(s.stmt)
	}
	capped := false
	if len(stmt) > r.maxStmt {
		stmt = r.capRaw(stmt)
		res.Truncated = true
		capped = true
	}
	res.Statement = stmt
	if key != nil {
		sh := newShape(&res, capped, params, ids)
		r.shapes.put(key, sh)
		if pkey != nil {
			r.learnPrelex(pkey, spans, sql, toks, sh)
		}
	}
	return res
}

// cloneStrings copies a slice of the scratch for a Result, nil when empty.
func cloneStrings(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return slices.Clone(s)
}

// plausibleText rejects binary data: invalid UTF-8 (except a rune cut at the
// end of truncated text) and control characters other than white space.
func plausibleText(s string, truncated bool) bool {
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b < 0x20 && b != '\t' && b != '\n' && b != '\r' || b == 0x7f {
				return false
			}
			i++
			continue
		}
		c, n := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && n <= 1 {
			if truncated && len(s)-i < utf8.UTFMax {
				return true
			}
			return false
		}
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == 0x7f {
			return false
		}
		i += n
	}
	return true
}

// commands a statement may start with; anything else fails closed.
var commandWords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`SELECT INSERT UPDATE DELETE MERGE UPSERT REPLACE WITH COPY VALUES TABLE
		EXPLAIN ANALYZE ANALYSE SHOW SET RESET BEGIN START COMMIT END ROLLBACK ABORT SAVEPOINT RELEASE
		PREPARE EXECUTE EXEC DEALLOCATE DECLARE FETCH MOVE CLOSE LISTEN NOTIFY UNLISTEN CREATE ALTER DROP
		TRUNCATE GRANT REVOKE COMMENT VACUUM CLUSTER REINDEX LOCK UNLOCK DISCARD CHECKPOINT CALL DO LOAD
		USE DESCRIBE DESC HANDLER KILL FLUSH OPTIMIZE REPAIR CHECK CHECKSUM RENAME XA SECURITY IMPORT
		REFRESH PURGE INSTALL UNINSTALL BINLOG CACHE HELP SIGNAL RESIGNAL GET`) {
		commandWords[w] = true
	}
}

// command returns the statement's command: its first keyword, or for WITH the
// verb of the main statement after the common table expressions.
func command(toks []token) (string, bool) {
	i := 0
	for i < len(toks) && toks[i].val == "(" {
		i++
	}
	if i >= len(toks) || !isWord(toks[i]) {
		return "", false
	}
	first := upperOf(toks[i].val)
	if !commandWords[first] {
		return "", false
	}
	if first == "WITH" {
		depth := 0
		for _, t := range toks[i+1:] {
			switch t.val {
			case "(":
				depth++
			case ")":
				depth--
			}
			if depth == 0 && isWord(t) {
				switch u := upperOf(t.val); u {
				case "SELECT", "INSERT", "UPDATE", "DELETE", "MERGE", "VALUES", "TABLE":
					return u, true
				}
			}
		}
	}
	return first, true
}

// Split splits text holding several statements at top-level semicolons.
// Text the lexer cannot follow is returned whole.
func Split(d Dialect, sql string) []string {
	if !strings.Contains(sql, ";") {
		return []string{sql}
	}
	if stmt, ok := splitOneTrailing(sql); ok {
		return []string{stmt}
	}
	return splitLexed(d, sql)
}

// splitOneTrailing is Split, without lexing, for the common text of one
// statement ending in a semicolon (what pgbench and psql scripts send): the
// semicolon is the text's only one, only white space follows it, and
// nothing before it could open a quote, comment or dollar string that
// would hide it, nor is there white space around a dot. ok is false for
// any other text.
func splitOneTrailing(sql string) (string, bool) {
	semi := -1
	for i := 0; i < len(sql); i++ {
		switch splitClass[sql[i]] {
		case scPlain:
			if semi >= 0 {
				return "", false
			}
		case scSpace:
		case scSemicolon:
			if semi >= 0 {
				return "", false
			}
			semi = i
		case scDot:
			// MySQL's lexer joins "a . b" into one shorter token, which
			// the lexed split treats as text it cannot follow.
			if i > 0 && splitClass[sql[i-1]] == scSpace || i+1 < len(sql) && splitClass[sql[i+1]] == scSpace || semi >= 0 {
				return "", false
			}
		case scDashSlash:
			if i+1 < len(sql) && (sql[i+1] == '-' || sql[i+1] == '*') || semi >= 0 {
				return "", false
			}
		default: // quotes, dollar, hash, backslash, bracket, NUL, not ASCII
			return "", false
		}
	}
	if s := strings.TrimSpace(sql[:semi]); s != "" {
		return s, true
	}
	return sql, true
}

// Byte classes for splitOneTrailing.
const (
	scPlain = iota
	scSpace
	scSemicolon
	scDot
	scDashSlash
	scStop
)

var splitClass = func() (t [256]uint8) {
	for c := range t {
		switch {
		case c >= utf8.RuneSelf:
			t[c] = scStop
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			t[c] = scSpace
		case c == ';':
			t[c] = scSemicolon
		case c == '.':
			t[c] = scDot
		case c == '-' || c == '/':
			t[c] = scDashSlash
		case strings.IndexByte("'\"`$#\\[\x00", byte(c)) >= 0:
			t[c] = scStop
		}
	}
	return t
}()

// splitLexed is Split by the lexer.
func splitLexed(d Dialect, sql string) []string {
	var out []string
	start, pos := 0, 0
	l := newLexer(d, sql)
	for {
		t := l.Scan()
		if t.Type == eof {
			break
		}
		pos += len(t.Value)
		if t.Type == punctuation && t.Value == ";" {
			if s := strings.TrimSpace(sql[start : pos-1]); s != "" {
				out = append(out, s)
			}
			start = pos
		}
	}
	if pos != len(sql) {
		return []string{sql}
	}
	if s := strings.TrimSpace(sql[start:]); s != "" {
		out = append(out, s)
	}
	if len(out) == 0 {
		return []string{sql}
	}
	return out
}
