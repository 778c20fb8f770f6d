package auth

import (
	"strings"
	"testing"
)

// A hash is argon2id with a fresh salt; only the password checks against
// it; a hash that is not argon2id, or was tampered with, is an error or a
// mismatch, never a match.
func TestPasswordHash(t *testing.T) {
	h1, err := HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := HashPassword("correct horse battery")
	if !strings.HasPrefix(h1, "$argon2id$v=19$m=19456,t=2,p=1$") || h1 == h2 {
		t.Errorf("hashes %q %q: want argon2id, salted", h1, h2)
	}
	if ok, err := CheckPassword(h1, "correct horse battery"); !ok || err != nil {
		t.Errorf("the right password: %v %v", ok, err)
	}
	for _, wrong := range []string{"", "correct horse batter", "Correct horse battery", "correct horse battery "} {
		if ok, _ := CheckPassword(h1, wrong); ok {
			t.Errorf("password %q matched", wrong)
		}
	}
	parts := strings.Split(h1, "$")
	tampered := strings.Join(append(parts[:5:5], "AAAA"+parts[5][4:]), "$")
	if ok, _ := CheckPassword(tampered, "correct horse battery"); ok {
		t.Error("a tampered hash matched")
	}
	for _, bad := range []string{"", "plain", "$2y$10$abcdefghijklmnopqrstuv", "$argon2i$v=19$m=1,t=1,p=1$c2FsdA$a2V5",
		"$argon2id$v=19$m=0,t=1,p=1$c2FsdA$a2V5", "$argon2id$v=19$m=8,t=1,p=1$c2FsdA$"} {
		if ok, err := CheckPassword(bad, ""); ok || err == nil {
			t.Errorf("hash %q: %v %v, want an error", bad, ok, err)
		}
	}
}
