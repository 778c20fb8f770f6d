package dbwire

import "testing"

func TestDetect(t *testing.T) {
	first := func(fixture string, fromClient bool) []byte {
		for _, c := range loadFixture(t, fixture) {
			if c.FromClient == fromClient {
				return c.Data
			}
		}
		t.Fatalf("%s: no chunk", fixture)
		return nil
	}
	if e, ok := Detect(first("postgres_session.json", true)); !ok || e != EnginePostgres {
		t.Errorf("postgres startup: %q %v", e, ok)
	}
	if e, ok := Detect([]byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f}); !ok || e != EnginePostgres {
		t.Errorf("SSLRequest: %q %v", e, ok)
	}
	for _, f := range []string{"mysql_session.json", "mysql_cli_session.json"} {
		if e, ok := Detect(first(f, true)); !ok || e != EngineMySQL {
			t.Errorf("%s handshake response: %q %v", f, e, ok)
		}
		if e, ok := DetectServer(first(f, false)); !ok || e != EngineMySQL {
			t.Errorf("%s greeting: %q %v", f, e, ok)
		}
	}
	for _, b := range [][]byte{nil, []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), []byte("SSH-2.0-OpenSSH_9.2p1\r\n"),
		{0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03}} {
		if e, ok := Detect(b); ok {
			t.Errorf("Detect(%q) = %q", b, e)
		}
		if e, ok := DetectServer(b); ok {
			t.Errorf("DetectServer(%q) = %q", b, e)
		}
	}
}
