package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/collector/store"
	"github.com/vigilhq/vigil/event"
)

// mona's second alert, through sudo on another host 30 minutes after her
// first, joins her case; the case's evidence holds each event once and
// reading it is recorded for both alerts. Only a signed-in analyst reads
// cases.
func TestCases(t *testing.T) {
	s, hs := newServer(t)
	up := &event.Event{ID: "al-3", Time: t0.Add(30 * time.Minute), Kind: event.KindAlert, Site: "leeds", Host: "jump1",
		AgentID: "ag-3", BootID: "b3", Process: &event.Process{PID: 12, User: "root", LoginUID: 1001, LoginUser: "mona"},
		Alert: &event.Alert{Rule: "upload", Severity: event.SeverityCritical, Summary: "mona uploaded", Evidence: []string{"b1-1"}}}
	write(t, s.Store, func(tx *store.Tx) error {
		_, err := tx.PutAlert(up, t0)
		return err
	})

	var cases []store.Case
	getJSON(t, hs, "/api/cases", &cases)
	var got []string
	for _, c := range cases {
		got = append(got, c.ID+":"+strings.Join(c.AlertIDs, ",")+":"+c.Person+":"+c.Severity+":"+strings.Join(c.Hosts, ","))
	}
	if want := "al-2:al-2:ali:low:ws2 al-1:al-1,al-3:mona:critical:ws1,jump1"; strings.Join(got, " ") != want {
		t.Errorf("cases %v, want %s", got, want)
	}
	getJSON(t, hs, "/api/cases?site=manila", &cases)
	if len(cases) != 1 || cases[0].ID != "al-2" {
		t.Errorf("cases at manila: %+v, want al-2's alone", cases)
	}

	var d store.CaseDetail
	getJSON(t, hs, "/api/cases/al-3", &d)
	if d.ID != "al-1" || len(d.AlertList) != 2 || len(d.Evidence) != 1 || d.Evidence[0].ID != "b1-1" ||
		strings.Join(d.Missing, ",") != "b1-99" || strings.Join(d.CitedBy["b1-1"], ",") != "dump,upload" {
		t.Errorf("case of al-3: %+v", d)
	}
	log, err := s.Store.AuditLog(context.Background(), "", 100)
	if err != nil {
		t.Fatal(err)
	}
	viewed := map[string]bool{}
	for _, e := range log {
		if e.Action == ActViewEvidence {
			viewed[e.Target] = true
		}
	}
	if !viewed["al-1"] || !viewed["al-3"] || viewed["al-2"] {
		t.Errorf("evidence reads recorded %v, want al-1 and al-3", viewed)
	}

	code, ctype, body := get(t, hs, "/api/cases/al-404")
	var e struct{ Error string }
	json.Unmarshal(body, &e)
	if code != http.StatusNotFound || ctype != "application/json" || !strings.Contains(e.Error, "al-404") {
		t.Errorf("unknown case: %d %s %s; want 404 naming al-404", code, ctype, body)
	}
	if code, _, _ := get(t, hs, "/api/cases?severity=huge"); code != http.StatusBadRequest {
		t.Errorf("a bad filter: %d, want 400", code)
	}

	for _, p := range []string{"/api/cases", "/api/cases/al-1"} {
		if code := request(t, hs, p, ""); code != http.StatusUnauthorized {
			t.Errorf("%s without a token: %d, want 401", p, code)
		}
	}
	scraper, err := s.Auth.Add("prometheus", "metrics")
	if err != nil {
		t.Fatal(err)
	}
	if code := request(t, hs, "/api/cases", scraper); code != http.StatusForbidden {
		t.Errorf("/api/cases with a metrics token: %d, want 403", code)
	}
	analyst, err := s.Auth.Add("ana", "soc")
	if err != nil {
		t.Fatal(err)
	}
	if code := request(t, hs, "/api/cases/al-1", analyst); code != http.StatusOK {
		t.Errorf("/api/cases/al-1 with a soc token: %d, want 200", code)
	}
}
