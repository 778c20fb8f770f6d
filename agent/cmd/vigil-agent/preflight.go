package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/nats-io/nats.go"

	"github.com/vigilhq/vigil/agent/config"
	"github.com/vigilhq/vigil/agent/publish"
	"github.com/vigilhq/vigil/agent/rulesync"
	"github.com/vigilhq/vigil/agent/sensor"
	"github.com/vigilhq/vigil/rules"
	"github.com/vigilhq/vigil/rules/bundle"
)

// preflight checks everything run would use, one line per check with the
// fix, and fails when any check does, so an installer can gate on it.
func preflight(o preflightOptions, out io.Writer) error {
	asJSON, cfgPath, timeout := &o.asJSON, &o.config, &o.timeout
	cfg, err := loadConfig(*cfgPath)
	var setup []sensor.Check
	if err != nil {
		setup = append(setup, sensor.Check{Name: "config", Detail: err.Error(), Fix: "correct the file at the place named"})
		cfg = config.Default()
	} else {
		setup = append(setup, sensor.Check{Name: "config", OK: true, Detail: configName(*cfgPath)})
		setup = append(setup, setupChecks(cfg, *timeout)...)
	}
	rep := sensor.Preflight(sensorsFor(cfg, nil))
	rep.Checks = append(setup, rep.Checks...)
	if *asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		rep.WriteText(out)
	}
	if n := rep.Failed(); n > 0 {
		return fmt.Errorf("preflight: %d of %d checks failed", n, len(rep.Checks)+len(rep.Sensors))
	}
	return nil
}

// preflightOptions are preflight's flags.
type preflightOptions struct {
	asJSON  bool
	config  string
	timeout time.Duration
}

func configName(path string) string {
	if path != "" {
		return path
	}
	if _, err := os.Stat(defaultConfig); err == nil {
		return defaultConfig
	}
	return "built-in defaults (" + defaultConfig + " is absent)"
}

// setupChecks are the checks beyond the kernel: credentials, rules, the
// collector and the spool's disk.
func setupChecks(cfg *config.Config, timeout time.Duration) []sensor.Check {
	var out []sensor.Check
	pcfg, diags := publish.ParseConfig(cfg.Rest, cfg.StateDir)
	credsErr := credsDiag(diags)
	switch {
	case credsErr != nil:
		fix := "copy the key vigil enrol wrote to the path collector.creds names (mode 0600, owner root)"
		if credsErr.Summary != publish.CredsUnreadable {
			fix = "enrol the agent again (vigil enrol) and copy the key it writes"
		}
		out = append(out, sensor.Check{Name: "credentials", Detail: credsErr.Detail, Fix: fix})
	case diags.HasErrors():
		out = append(out, sensor.Check{Name: "collector block", Detail: firstDiag(diags),
			Fix: "correct the collector block; vigil enrol prints one that works"})
	case pcfg == nil:
		out = append(out, sensor.Check{Name: "collector block",
			Detail: "none: events would go nowhere but standard output",
			Fix:    "add a collector block with url and creds (docs/deploy.md), or run with --stdout on purpose"})
	default:
		c := credsCheck(pcfg.Creds)
		if c.OK && pcfg.Identity != nil {
			if err := pcfg.Identity.Bind(cfg.Site, cfg.AgentID); err != nil {
				c.OK, c.Detail = false, err.Error()
				c.Fix = "add the site and agent_id lines vigil enrol printed to agent.hcl"
			}
		}
		out = append(out, c)
		out = append(out, collectorCheck(pcfg, timeout))
		out = append(out, spoolCheck(pcfg.SpoolDir, pcfg.SpoolMaxMiB<<20))
	}
	out = append(out, rulesCheck(cfg.RulesDir))
	if pcfg != nil && pcfg.Identity != nil {
		out = append(out, rulesModeCheck(cfg, pcfg.Identity.RulesKey))
	} else {
		out = append(out, rulesModeCheck(cfg, ""))
	}
	return out
}

// credsDiag returns the diagnostic about the credentials file, if any.
func credsDiag(diags hcl.Diagnostics) *hcl.Diagnostic {
	for _, d := range diags {
		if d.Severity == hcl.DiagError && (d.Summary == publish.CredsUnreadable || d.Summary == publish.CredsInvalid) {
			return d
		}
	}
	return nil
}

// rulesModeCheck says where the host rules come from and, in bundle mode,
// which bundle a start would run.
func rulesModeCheck(cfg *config.Config, pinned string) sensor.Check {
	c := sensor.Check{Name: "rules mode"}
	mode, err := cfg.ResolveRulesMode(pinned)
	if err != nil {
		c.Detail, c.Fix = err.Error(), "enrol the agent again (vigil enrol writes rules_key), or set rules_mode = \"local\""
		return c
	}
	if mode == config.RulesLocal {
		c.OK, c.Detail = true, "local: the files of "+cfg.RulesDir
		return c
	}
	key, err := bundle.ParsePublicKey(pinned)
	if err != nil {
		c.Detail, c.Fix = "the credentials' rules_key: "+err.Error(), "enrol the agent again"
		return c
	}
	b, _, _, err := rulesync.LoadLastGood(cfg.StateDir, key, cfg.Site)
	switch {
	case errors.Is(err, rulesync.ErrNone):
		c.OK, c.Detail = true, "bundle: none kept yet; the files of "+cfg.RulesDir+" run until the collector sends one"
	case err != nil:
		c.Detail = err.Error()
		c.Fix = "remove it: the files of " + cfg.RulesDir + " run until the collector sends its current bundle again"
	default:
		c.OK, c.Detail = true, fmt.Sprintf("bundle: version %d kept (site %s, published %s)", b.Version, b.Site, b.Published.Format(time.RFC3339))
	}
	return c
}

// credsCheck: the file holds the agent's secret seed, so only its owner,
// root or the agent's own user, may read it.
func credsCheck(path string) sensor.Check {
	c := sensor.Check{Name: "credentials"}
	if path == "" {
		c.Detail = "collector.creds is not set: the collector will refuse an agent without a key"
		c.Fix = "run vigil enrol for this host and set collector.creds to the file it writes"
		return c
	}
	st, err := os.Stat(path)
	if err != nil {
		c.Detail = err.Error()
		c.Fix = "run vigil enrol for this host and copy the credentials to " + path
		return c
	}
	sys, _ := st.Sys().(*syscall.Stat_t)
	switch {
	case st.Mode().Perm()&0o077 != 0:
		c.Detail = fmt.Sprintf("%s: mode %04o lets other users read the agent's secret seed", path, st.Mode().Perm())
		c.Fix = "chmod 600 " + path
	case sys != nil && sys.Uid != 0 && int(sys.Uid) != os.Geteuid():
		c.Detail = fmt.Sprintf("%s: owned by uid %d, neither root nor the agent", path, sys.Uid)
		c.Fix = "chown root:root " + path
	default:
		// ParseConfig has read and checked the key already.
		c.OK = true
		c.Detail = path
	}
	return c
}

func collectorCheck(pcfg *publish.Config, timeout time.Duration) sensor.Check {
	c := sensor.Check{Name: "collector"}
	server, err := publish.Check(pcfg, timeout)
	if err != nil {
		c.Detail = err.Error()
		switch {
		case errors.Is(err, publish.ErrPublishRefused):
			c.Fix = "set site and agent_id in agent.hcl to what vigil enrol printed for this key"
		case errors.Is(err, nats.ErrAuthorization):
			c.Fix = "the collector does not know this key: enrol the agent again (vigil enrol) and copy its credentials"
		case strings.Contains(err.Error(), "tls") || strings.Contains(err.Error(), "x509"):
			c.Fix = "set collector.tls_ca to the CA that signed the collector's certificate"
		default:
			c.Fix = "check collector.url and that the collector's NATS port is reachable from this host"
		}
		return c
	}
	c.OK = true
	c.Detail = server
	if pcfg.Identity != nil {
		c.Detail += " as " + pcfg.Identity.Site + "/" + pcfg.Identity.AgentID
	}
	return c
}

// spoolCheck: the spool holds events while the collector is away, so its
// file system must have room for all of it.
func spoolCheck(dir string, limit int64) sensor.Check {
	c := sensor.Check{Name: "spool disk"}
	at := dir
	var fs syscall.Statfs_t
	for {
		err := syscall.Statfs(at, &fs)
		if err == nil {
			break
		}
		if !errors.Is(err, os.ErrNotExist) || filepath.Dir(at) == at {
			c.Detail = fmt.Sprintf("%s: %v", at, err)
			c.Fix = "make " + dir + " a directory the agent can write"
			return c
		}
		at = filepath.Dir(at)
	}
	free := int64(fs.Bavail) * fs.Bsize
	if free < limit {
		c.Detail = fmt.Sprintf("%s: %d MiB free, the spool may take %d MiB", dir, free>>20, limit>>20)
		c.Fix = "free space there, or lower collector.spool_max_mib"
		return c
	}
	c.OK = true
	c.Detail = fmt.Sprintf("%s: %d MiB free for a spool of up to %d MiB", dir, free>>20, limit>>20)
	return c
}

// rulesCheck: an agent without host rules raises no alert of its own, so
// a missing, empty or broken rules directory fails.
func rulesCheck(dir string) sensor.Check {
	c := sensor.Check{Name: "host rules"}
	files, err := rules.Files(dir)
	switch {
	case err != nil:
		c.Detail = err.Error()
		c.Fix = "install the rule pack in " + dir + " or set rules_dir to where it is"
		return c
	case len(files) == 0:
		c.Detail = dir + ": no .hcl rule files"
		c.Fix = "install the rule pack in " + dir + " or set rules_dir to where it is"
		return c
	}
	set, diags := rules.LoadFiles(files...)
	if diags.HasErrors() {
		c.Detail = firstDiag(diags)
		c.Fix = "correct the rule (vigil rules check " + dir + " shows every problem)"
		return c
	}
	c.OK = true
	c.Detail = fmt.Sprintf("%s: %d rules, set %s", dir, len(set.Names()), set.Hash())
	return c
}

// firstDiag names the first error and where it is.
func firstDiag(diags hcl.Diagnostics) string {
	for _, d := range diags {
		if d.Severity != hcl.DiagError {
			continue
		}
		msg := d.Summary
		if d.Detail != "" {
			msg += ": " + d.Detail
		}
		if d.Subject != nil {
			msg = d.Subject.String() + ": " + msg
		}
		if n := len(diags.Errs()); n > 1 {
			msg += fmt.Sprintf(" (and %d more)", n-1)
		}
		return msg
	}
	return diags.Error()
}
