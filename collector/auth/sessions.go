package auth

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"sync"
	"time"
)

// CookieName is the session cookie's name.
const CookieName = "vigil_session"

// Session lengths: a session ends after SessionIdle without a request, and
// at the latest SessionMax after sign-in.
const (
	SessionIdle = 30 * time.Minute
	SessionMax  = 12 * time.Hour
)

type session struct {
	user          string
	start, active time.Time
}

// Sessions holds signed-in people's sessions in memory: a restart signs
// everyone out, which costs a login and keeps no session secret on disk.
type Sessions struct {
	mu  sync.Mutex
	m   map[string]*session
	now func() time.Time
}

// NewSessions returns an empty session table.
func NewSessions() *Sessions { return &Sessions{m: map[string]*session{}, now: time.Now} }

// Start begins a session for user and sets its cookie on w: HttpOnly,
// Secure, SameSite=Strict, so no script reads it and no other site's page
// sends it.
func (s *Sessions) Start(w http.ResponseWriter, user string) error {
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return err
	}
	id := hex.EncodeToString(raw[:])
	now := s.now()
	s.mu.Lock()
	for k, v := range s.m { // drop the expired, so the table stays small
		if s.expired(v, now) {
			delete(s.m, k)
		}
	}
	s.m[id] = &session{user: user, start: now, active: now}
	s.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: id, Path: "/", HttpOnly: true, Secure: true,
		SameSite: http.SameSiteStrictMode, MaxAge: int(SessionMax / time.Second)})
	return nil
}

func (s *Sessions) expired(v *session, now time.Time) bool {
	return now.Sub(v.active) > SessionIdle || now.Sub(v.start) > SessionMax
}

// User returns the user of r's session, if it has a live one.
func (s *Sessions) User(r *http.Request) (string, bool) {
	c, err := r.Cookie(CookieName)
	if err != nil {
		return "", false
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[c.Value]
	if !ok {
		return "", false
	}
	if s.expired(v, now) {
		delete(s.m, c.Value)
		return "", false
	}
	v.active = now
	return v.user, true
}

// End ends r's session and clears its cookie.
func (s *Sessions) End(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(CookieName); err == nil {
		s.mu.Lock()
		delete(s.m, c.Value)
		s.mu.Unlock()
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/", HttpOnly: true, Secure: true,
		SameSite: http.SameSiteStrictMode, MaxAge: -1})
}

// EndUser ends every session of user, as when an admin resets their
// password: whoever holds the old one is out.
func (s *Sessions) EndUser(user string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, v := range s.m {
		if v.user == user {
			delete(s.m, k)
		}
	}
}
