package enrich

import (
	"strings"
	"testing"

	"github.com/vigilhq/vigil/agent/redact"
)

func TestScrub(t *testing.T) {
	red, err := redact.New(redact.Config{Key: []byte("k")})
	if err != nil {
		t.Fatal(err)
	}
	s := NewArgScrubber(red)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"psql", "-c", "SELECT * FROM customers WHERE email = 'alice@example.com'"},
			"psql -c SELECT * FROM customers WHERE email = ?"},
		{[]string{"psql", "--command=DELETE FROM t WHERE id = 42"}, "psql --command=DELETE FROM t WHERE id = ?"},
		{[]string{"psql", "postgres://bob:hunter2@db:5432/shop", "-c", "select 1"}, "psql postgres://bob:?@db:5432/shop -c select ?"},
		{[]string{"psql", "host=db password=hunter2 user=bob"}, "psql host=db password=? user=bob"},
		{[]string{"mysql", "-uroot", "-phunter2", "-e", "SELECT 'x'"}, "mysql -uroot -p? -e SELECT ?"},
		{[]string{"mariadb", "-eSELECT 'secret'", "--password=hunter2"}, "mariadb -eSELECT ? --password=?"},
		{[]string{"sqlite3", "shop.db", "select email from customers where id = 7"}, "sqlite3 shop.db select email from customers where id = ?"},
		{[]string{"ls", "-la", "/tmp"}, "ls -la /tmp"},
	}
	for _, c := range cases {
		got := strings.Join(s.Scrub(c.args), " ")
		if got != c.want {
			t.Errorf("Scrub(%q)\n got %q\nwant %q", c.args, got, c.want)
		}
		for _, secret := range []string{"hunter2", "alice@example.com", "'secret'", "42", "'x'"} {
			if strings.Contains(got, secret) {
				t.Errorf("Scrub(%q) kept %q", c.args, secret)
			}
		}
	}
}
