package main

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/collector/api"
	"github.com/vigilhq/vigil/collector/auth"
	"github.com/vigilhq/vigil/collector/store"
	"github.com/vigilhq/vigil/event"
)

// alertsAPI serves a real collector API over a store holding one alert,
// and returns its URL and the admin token's file.
func alertsAPI(t *testing.T) (string, string) {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "vigil.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	tx, err := st.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	al := &event.Event{ID: "a-1", Time: time.Now().UTC(), Kind: event.KindAlert, Site: "leeds", Host: "ws-1", AgentID: "ag-1",
		Process: &event.Process{LoginUID: 1013, LoginUser: "ana"}, Alert: &event.Alert{Rule: "db_dump_tool", Severity: "high", Summary: "ana ran pg_dump"}}
	if _, err := tx.PutAlert(al, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	tokens, err := auth.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer((&api.Server{Auth: tokens, Store: st, Hub: api.NewHub()}).Handler())
	t.Cleanup(hs.Close)
	return hs.URL, filepath.Join(dir, auth.AdminFile)
}

// The CLI sends the token it is given, from a file or the environment, and
// says what to do when it has none or a wrong one.
func TestAlertsListSendsTheToken(t *testing.T) {
	url, tokenFile := alertsAPI(t)
	t.Setenv("VIGIL_TOKEN", "")
	t.Setenv("VIGIL_TOKEN_FILE", "")
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	if code, out, errOut := runCLI("alerts", "list", "--api", url, "--token-file", tokenFile); code != exitOK || !strings.Contains(out, "db_dump_tool") {
		t.Errorf("with --token-file: %d %q %q", code, out, errOut)
	}
	b, _ := os.ReadFile(tokenFile)
	t.Setenv("VIGIL_TOKEN", strings.TrimSpace(string(b)))
	if code, out, _ := runCLI("alerts", "list", "--api", url); code != exitOK || !strings.Contains(out, "db_dump_tool") {
		t.Errorf("with VIGIL_TOKEN: %d %q", code, out)
	}
	t.Setenv("VIGIL_TOKEN", "vgl_wrong")
	if code, _, errOut := runCLI("alerts", "list", "--api", url); code == exitOK || !strings.Contains(errOut, "unknown or revoked token") {
		t.Errorf("with a wrong token: %d %q", code, errOut)
	}
	t.Setenv("VIGIL_TOKEN", "")
	if code, _, errOut := runCLI("alerts", "list", "--api", url); code == exitOK || !strings.Contains(errOut, "token add") {
		t.Errorf("with no token: %d %q", code, errOut)
	}
}

// The CLI triages through the API with its token: the action is stored as
// the token's, a close without a reason is refused before it is sent, and
// the queue filters by status.
func TestAlertsTriage(t *testing.T) {
	url, tokenFile := alertsAPI(t)
	t.Setenv("VIGIL_TOKEN", "")
	t.Setenv("VIGIL_TOKEN_FILE", tokenFile)
	if code, out, errOut := runCLI("alerts", "ack", "a-1", "--api", url); code != exitOK || !strings.Contains(out, "a-1: acknowledged") {
		t.Errorf("ack: %d %q %q", code, out, errOut)
	}
	if code, _, errOut := runCLI("alerts", "close", "a-1", "--api", url); code == exitOK || !strings.Contains(errOut, "reason") {
		t.Errorf("close without a reason: %d %q", code, errOut)
	}
	if code, out, errOut := runCLI("alerts", "close", "a-1", "--reason", "benign", "--note", "a planned migration", "--api", url); code != exitOK || !strings.Contains(out, "closed (benign)") {
		t.Errorf("close: %d %q %q", code, out, errOut)
	}
	if code, out, _ := runCLI("alerts", "list", "--status", "open", "--api", url); code != exitOK || !strings.Contains(out, "no alerts") {
		t.Errorf("open alerts after the close: %d %q", code, out)
	}
	if code, out, _ := runCLI("alerts", "list", "--status", "closed", "--api", url); code != exitOK || !strings.Contains(out, "db_dump_tool") {
		t.Errorf("closed alerts: %d %q", code, out)
	}
	if code, _, errOut := runCLI("alerts", "ack", "nope", "--api", url); code == exitOK || !strings.Contains(errOut, "not found") {
		t.Errorf("ack of an unknown alert: %d %q", code, errOut)
	}
}
