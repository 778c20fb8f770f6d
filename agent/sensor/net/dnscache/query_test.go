package dnscache

import (
	"errors"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

func query(t testing.TB, name string, typ dnsmessage.Type) []byte {
	t.Helper()
	m := dnsmessage.Message{
		Header:    dnsmessage.Header{ID: 9, RecursionDesired: true},
		Questions: []dnsmessage.Question{{Name: dnsmessage.MustNewName(name), Type: typ, Class: dnsmessage.ClassINET}},
	}
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseQuery(t *testing.T) {
	for _, c := range []struct {
		msg  []byte
		want Question
	}{
		{query(t, "NBSWY3DP.t.Exfil.example.", dnsmessage.TypeTXT), Question{"nbswy3dp.t.exfil.example", "TXT"}},
		{query(t, "www.example.com.", dnsmessage.TypeAAAA), Question{"www.example.com", "AAAA"}},
		{query(t, "x.example.", dnsmessage.Type(4242)), Question{"x.example", "TYPE4242"}},
	} {
		got, err := ParseQuery(c.msg)
		if err != nil || got != c.want {
			t.Errorf("ParseQuery = %+v, %v; want %+v", got, err, c.want)
		}
	}
	if _, err := ParseQuery(cnameAnswer(t)); !errors.Is(err, ErrNotQuery) {
		t.Errorf("an answer: err = %v, want ErrNotQuery", err)
	}
	q := query(t, "www.example.com.", dnsmessage.TypeA)
	if _, err := ParseQuery(q[:len(q)-3]); err == nil {
		t.Error("a question cut short: want an error")
	}
	if _, err := ParseQuery([]byte{1, 2, 3}); err == nil {
		t.Error("3 bytes: want an error")
	}
}

// FuzzParseQuery feeds datagrams sent to port 53: ParseQuery must not
// panic, and a question it returns has a type. Seeds are in
// testdata/fuzz/FuzzParseQuery.
func FuzzParseQuery(f *testing.F) {
	f.Add(query(f, "nbswy3dp.t.exfil.example.", dnsmessage.TypeTXT))
	f.Add(cnameAnswer(f))
	f.Fuzz(func(t *testing.T, msg []byte) {
		q, err := ParseQuery(msg)
		if err == nil && q.Type == "" {
			t.Fatalf("question without a type from %x", msg)
		}
	})
}
