package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/vigilhq/vigil/agent/config"
	"github.com/vigilhq/vigil/agent/publish"
	"github.com/vigilhq/vigil/agent/rulesync"
	"github.com/vigilhq/vigil/rules/bundle"
)

// followBundles makes the host rules those of the site's signed bundles:
// the last good one kept on disk at once, then each newer one the
// collector serves, until ctx ends. With --stdout there is no collector,
// and only the kept bundle runs.
func followBundles(ctx context.Context, cfg *config.Config, pcfg *publish.Config, stdout bool, pinned string, host *hostRules, log *slog.Logger) error {
	key, err := bundle.ParsePublicKey(pinned)
	if err != nil {
		return fmt.Errorf("following rule bundles: the credentials' rules_key: %w", err)
	}
	s := rulesync.New(rulesync.Options{Site: cfg.Site, Key: key, StateDir: cfg.StateDir, Apply: host.acceptBundle, Logger: log})
	host.bundles = s
	if v, err := s.Resume(); err != nil {
		log.Error("the kept rule bundle is refused; the host rules of "+cfg.RulesDir+" run until the collector sends one", "err", err)
	} else if v == 0 {
		log.Warn("no rule bundle yet; the host rules of "+cfg.RulesDir+" run until the collector sends one", "site", cfg.Site)
	}
	if pcfg == nil || stdout {
		return nil
	}
	auth, err := pcfg.AuthOptions()
	if err != nil {
		return err
	}
	id := pcfg.Identity.AgentID
	if id == "" {
		id = cfg.AgentID
	}
	nc, err := nats.Connect(pcfg.URL, append(auth,
		nats.Name("vigil-agent rules "+id),
		nats.MaxReconnects(-1),
		nats.RetryOnFailedConnect(true),
		nats.ReconnectWait(time.Second),
		nats.IgnoreAuthErrorAbort(),
		nats.CustomInboxPrefix(publish.InboxPrefix(id)),
		nats.ConnectHandler(func(*nats.Conn) { s.Kick() }),
		nats.ReconnectHandler(func(*nats.Conn) { s.Kick() }),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			log.Warn("collector refused a rule bundle request", "err", err)
		}))...)
	if err != nil {
		return fmt.Errorf("connecting to collector %s for rule bundles: %w", pcfg.URL, err)
	}
	go func() {
		defer nc.Close()
		if err := s.Run(ctx, nc); err != nil {
			log.Error("rule bundles are not followed", "err", err)
		}
	}()
	return nil
}
