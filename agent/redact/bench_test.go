package redact

import (
	"math/rand"
	"testing"

	"github.com/vigilhq/vigil/agent/dbwire/dbwiretest"
)

func benchRedact(b *testing.B, d Dialect, stmts []string, cols ...string) {
	r := newTest(b, cols...)
	var sink int
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res := r.Redact(d, stmts[i%len(stmts)])
		sink += len(res.Statement)
	}
	if sink == 0 {
		b.Fatal("nothing redacted")
	}
}

// pgbench statements as the tracker hands them over: split, without the
// semicolon.
func pgbenchStatements() []string {
	var out []string
	for _, s := range dbwiretest.PgbenchSQL(rand.New(rand.NewSource(1)), 512) {
		out = append(out, Split(Postgres, s)...)
	}
	return out
}

func BenchmarkRedactPgbench(b *testing.B) { benchRedact(b, Postgres, pgbenchStatements()) }

func BenchmarkRedactPgbenchIdentifiers(b *testing.B) {
	benchRedact(b, Postgres, pgbenchStatements(), "pgbench_accounts.aid", "tid")
}

func BenchmarkRedactMySQL(b *testing.B) { benchRedact(b, MySQL, pgbenchStatements()) }

func BenchmarkSplitPgbench(b *testing.B) {
	stmts := dbwiretest.PgbenchSQL(rand.New(rand.NewSource(1)), 512)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		Split(Postgres, stmts[i%len(stmts)])
	}
}

// A varied corpus: longer analytical statements, quoting, comments.
var mixedCorpus = []string{
	"SELECT c.id, c.email, sum(o.total) FROM public.customers c JOIN orders o ON o.cid = c.id WHERE c.created_at > '2024-01-01' AND o.status IN ('paid', 'shipped', 'refunded') GROUP BY c.id, c.email ORDER BY 3 DESC LIMIT 100",
	"INSERT INTO events (id, kind, payload, at) VALUES (1, 'login', '{\"ip\": \"10.0.0.1\"}', now()), (2, 'logout', '{}', now())",
	"UPDATE customers SET note = E'it\\'s fine', updated_at = now() WHERE email = 'someone@example.com'",
	"/* app=web,route=/orders */ SELECT * FROM orders WHERE id = $1 FOR UPDATE",
	"WITH recent AS (SELECT * FROM orders WHERE at > now() - interval '1 day') SELECT count(*) FROM recent r WHERE r.total > 100.5",
	"COPY (SELECT * FROM customers) TO STDOUT WITH (FORMAT csv, HEADER)",
	"DELETE FROM sessions WHERE expires < 1700000000 AND user_id NOT IN (SELECT id FROM admins)",
	"select id from t where x = $$dollar quoted$$ and y = -5",
}

func BenchmarkRedactMixed(b *testing.B) {
	benchRedact(b, Postgres, mixedCorpus, "customers.id", "email")
}
