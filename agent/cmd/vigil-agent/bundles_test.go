package main

import (
	"context"
	"crypto/ed25519"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/agent/config"
	"github.com/vigilhq/vigil/agent/rulesync"
	"github.com/vigilhq/vigil/event"
	"github.com/vigilhq/vigil/rules"
	"github.com/vigilhq/vigil/rules/bundle"
)

const rsyncRule = `rule "rsync_out" {
  severity = "high"
  when     = kind == "process.exec" && process.comm == "rsync"
}
`

func signedRules(t *testing.T, key ed25519.PrivateKey, version uint64, src string) []byte {
	t.Helper()
	set, diags := rules.Load(rules.Source{Name: "bundle.hcl", Data: []byte(src)})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	b, err := bundle.New("lisbon", version, set, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	data, err := bundle.Sign(key, b)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func bundleHost(t *testing.T, ctx context.Context, dir, state string, pub ed25519.PublicKey) (*hostRules, *rulesync.Syncer) {
	t.Helper()
	h := loadHostRules(ctx, dir, state, nil, quietLog())
	s := rulesync.New(rulesync.Options{Site: "lisbon", Key: pub, StateDir: state, Apply: h.acceptBundle, Logger: quietLog()})
	h.bundles = s
	if _, err := s.Resume(); err != nil {
		t.Fatal(err)
	}
	return h, s
}

// In bundle mode the files are followed until a bundle comes; then the
// bundle's rules run, a local edit of the rule files (the insider's way
// round the bundle) changes nothing, a refused bundle
// leaves them running and shows in the heartbeat, and a restart runs the
// kept bundle.
func TestBundleModeRunsBundlesNotFileEdits(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pub, key, _ := ed25519.GenerateKey(nil)
	dir, state := t.TempDir(), t.TempDir()
	path := writeRules(t, dir, goodRules)
	h, s := bundleHost(t, ctx, dir, state, pub)
	hb := &event.Heartbeat{}
	h.fill(hb)
	if hb.RulesMode != config.RulesBundle || hb.BundleVersion != 0 {
		t.Fatalf("before any bundle: mode %q version %d", hb.RulesMode, hb.BundleVersion)
	}
	// Until a bundle comes, the files are followed as in local mode.
	writeRules(t, dir, rsyncRule+goodRules)
	h.watcher.Reload()
	if n := len(h.Process(execOf("rsync"))); n != 1 {
		t.Fatalf("before any bundle an edit of the files is not followed: %d alerts for rsync", n)
	}
	writeRules(t, dir, goodRules)
	h.watcher.Reload()
	if err := s.Offer(bundle.Key("lisbon"), signedRules(t, key, 4, rsyncRule)); err != nil {
		t.Fatal(err)
	}
	fires := func(comm string) bool { return len(h.Process(execOf(comm))) == 1 }
	if !fires("rsync") || fires("pg_dump") {
		t.Fatal("the bundle's rules do not run in place of the files'")
	}

	writeRules(t, dir, "")
	h.Process(&event.Event{ID: "b-9", Kind: event.KindFileWrite, File: &event.File{Path: path},
		Process: &event.Process{PID: 99, Comm: "vi", LoginUser: "mallory"}})
	h.watcher.Reload()
	if !fires("rsync") {
		t.Fatal("emptying the local rule files switched the bundle's rules off")
	}

	_, other, _ := ed25519.GenerateKey(nil)
	if err := s.Offer(bundle.Key("lisbon"), signedRules(t, other, 5, "")); err == nil {
		t.Fatal("a bundle signed with another key was accepted")
	}
	if err := s.Offer(bundle.Key("lisbon"), signedRules(t, key, 3, "")); err == nil {
		t.Fatal("an older bundle was accepted")
	}
	hb = &event.Heartbeat{}
	h.fill(hb)
	if !fires("rsync") || hb.BundleVersion != 4 || !strings.Contains(hb.BundleRefused, "not newer") {
		t.Fatalf("after refusals: version %d, refused %q", hb.BundleVersion, hb.BundleRefused)
	}

	again, _ := bundleHost(t, ctx, dir, state, pub)
	hb = &event.Heartbeat{}
	again.fill(hb)
	if len(again.Process(execOf("rsync"))) != 1 || hb.BundleVersion != 4 {
		t.Fatalf("after a restart: version %d, the bundle's rule does not fire", hb.BundleVersion)
	}
}

// Local mode says so in the heartbeat.
func TestLocalModeInHeartbeat(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	writeRules(t, dir, goodRules)
	h := loadHostRules(ctx, dir, t.TempDir(), nil, quietLog())
	hb := &event.Heartbeat{}
	h.fill(hb)
	if hb.RulesMode != config.RulesLocal || hb.BundleVersion != 0 {
		t.Fatalf("local mode heartbeat: mode %q version %d", hb.RulesMode, hb.BundleVersion)
	}
}

// preflight says which rules a start would run: local files, bundle mode
// with none or a kept version, and fails on bundle mode without a key and
// on a kept bundle that no longer verifies.
func TestPreflightRulesMode(t *testing.T) {
	pub, key, _ := ed25519.GenerateKey(nil)
	pinned := bundle.EncodePublicKey(pub)
	state := t.TempDir()
	cfg := &config.Config{Site: "lisbon", StateDir: state, RulesDir: "/etc/vigil/rules"}
	check := func(mode, pinned string) (bool, string) {
		cfg.RulesMode = mode
		c := rulesModeCheck(cfg, pinned)
		return c.OK, c.Detail
	}
	if ok, d := check("", ""); !ok || !strings.HasPrefix(d, "local") {
		t.Errorf("no key: %v %q", ok, d)
	}
	if ok, d := check("bundle", ""); ok || !strings.Contains(d, "rules_key") {
		t.Errorf("bundle mode without a key: %v %q", ok, d)
	}
	if ok, d := check("", pinned); !ok || !strings.Contains(d, "none kept yet") {
		t.Errorf("pinned key, nothing kept: %v %q", ok, d)
	}
	s := rulesync.New(rulesync.Options{Site: "lisbon", Key: pub, StateDir: state, Apply: func(*rules.Set, *bundle.Bundle) {}, Logger: quietLog()})
	if err := s.Offer(bundle.Key("lisbon"), signedRules(t, key, 7, rsyncRule)); err != nil {
		t.Fatal(err)
	}
	if ok, d := check("", pinned); !ok || !strings.Contains(d, "version 7 kept") {
		t.Errorf("a kept bundle: %v %q", ok, d)
	}
	other, _, _ := ed25519.GenerateKey(nil)
	if ok, d := check("", bundle.EncodePublicKey(other)); ok || !strings.Contains(d, "refused") {
		t.Errorf("a kept bundle of another key: %v %q", ok, d)
	}
}
