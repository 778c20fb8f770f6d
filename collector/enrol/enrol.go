package enrol

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/vigilhq/vigil/internal/owner"

	"github.com/nats-io/nkeys"

	"github.com/vigilhq/vigil/collector/bundles"
	"github.com/vigilhq/vigil/event"
)

// Agent is one enrolled agent as the collector knows it.
type Agent struct {
	AgentID   string `json:"agent_id"`
	Site      string `json:"site"`
	Host      string `json:"host"`
	PublicKey string `json:"public_key"`
	// RulesKey is the rule signing key's public half pinned in the agent's
	// credentials: the agent runs only bundles it verifies.
	RulesKey string    `json:"rules_key,omitempty"`
	Enrolled time.Time `json:"enrolled"`
}

// NewAgentID makes an agent id.
func NewAgentID() string {
	var b [12]byte
	rand.Read(b[:])
	return "ag-" + hex.EncodeToString(b[:])
}

// Enrol creates an identity for host at site, records it in dir and
// returns it with the credentials file's content. agentID may be empty
// (a new id is made).
func Enrol(dir, site, host, agentID string) (*Agent, []byte, error) {
	if agentID == "" {
		agentID = NewAgentID()
	}
	if !event.ValidToken(site) {
		return nil, nil, fmt.Errorf("site %q: use letters, digits, '-' and '_' (at most 64)", site)
	}
	if !event.ValidToken(agentID) {
		return nil, nil, fmt.Errorf("agent id %q: use letters, digits, '-' and '_' (at most 64)", agentID)
	}
	if host == "" || strings.ContainsAny(host, "\"\n\\") {
		return nil, nil, fmt.Errorf("host %q: give the host name", host)
	}
	key, err := DeploymentKey(filepath.Dir(dir))
	if err != nil {
		return nil, nil, err
	}
	rulesKey, err := bundles.PublicKey(filepath.Dir(dir))
	if err != nil {
		return nil, nil, err
	}
	kp, err := nkeys.CreateUser()
	if err != nil {
		return nil, nil, fmt.Errorf("creating agent key: %w", err)
	}
	seed, _ := kp.Seed()
	pub, _ := kp.PublicKey()
	a := &Agent{AgentID: agentID, Site: site, Host: host, PublicKey: pub, RulesKey: rulesKey, Enrolled: time.Now().UTC()}
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, nil, fmt.Errorf("creating agents directory %s: %w", dir, err)
		}
		// A directory the first enrol makes is the collector's, as the
		// data directory it sits in is.
		if err := owner.Like(dir, filepath.Dir(dir)); err != nil {
			return nil, nil, fmt.Errorf("creating agents directory %s: %w", dir, err)
		}
	}
	path := filepath.Join(dir, agentID+".json")
	if _, err := os.Stat(path); err == nil {
		return nil, nil, fmt.Errorf("agent %s is already enrolled (%s): revoke it first or pick another id", agentID, path)
	}
	b, _ := json.MarshalIndent(a, "", "  ")
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return nil, nil, fmt.Errorf("recording agent %s: %w", agentID, err)
	}
	if err := owner.Like(tmp, dir); err != nil {
		os.Remove(tmp)
		return nil, nil, fmt.Errorf("recording agent %s: %w", agentID, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return nil, nil, fmt.Errorf("recording agent %s: %w", agentID, err)
	}
	creds := fmt.Appendf(nil, `# vigil agent key of %s at site %s (agent %s), written by vigil enrol on %s.
# Copy to the agent host as /etc/vigil/agent.nk (mode 0600, owner root) and
# set in /etc/vigil/agent.hcl:
%s#
# The seed is a secret: whoever holds it can publish as this agent. NATS
# tools take this file as it is: nats --nkey /etc/vigil/agent.nk
-----BEGIN USER NKEY SEED-----
%s
------END USER NKEY SEED------

# The deployment key, the same for every agent enrolled here, keys the
# hashes of customer identifiers: whoever holds it can test guesses.
deployment_key = %q

# The collector's rule signing key: the agent runs only rule bundles that
# it signed (vigil rules publish), none older than the one running.
rules_key = %q
`, host, site, agentID, a.Enrolled.Format(time.RFC3339), commented(a.Settings("/etc/vigil/agent.nk")), seed, key, rulesKey)
	return a, creds, nil
}

// Settings are the lines of agent.hcl that bind the agent to this identity,
// with its key in keyPath; the collector's address is the administrator's.
func (a *Agent) Settings(keyPath string) string {
	return fmt.Sprintf(`site     = %q
host     = %q
agent_id = %q
collector {
  url   = "tls://COLLECTOR:4222"
  creds = %q
}
`, a.Site, a.Host, a.AgentID, keyPath)
}

func commented(s string) string {
	var b strings.Builder
	for _, line := range strings.SplitAfter(s, "\n") {
		if line != "" {
			b.WriteString("#   " + line)
		}
	}
	return b.String()
}

// Revoke removes an agent; the collector refuses its key on the next reload.
func Revoke(dir, agentID string) error {
	if !event.ValidToken(agentID) {
		return fmt.Errorf("agent id %q is not valid", agentID)
	}
	err := os.Remove(filepath.Join(dir, agentID+".json"))
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("agent %s is not enrolled", agentID)
	}
	if err != nil {
		return fmt.Errorf("revoking agent %s: %w", agentID, err)
	}
	return nil
}

// Load reads every enrolled agent in dir; a missing dir holds none. A bad
// file is reported and skipped, so one mistake does not lock out the rest.
func Load(dir string) ([]Agent, []error) {
	paths, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	sort.Strings(paths)
	var out []Agent
	var errs []error
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			errs = append(errs, fmt.Errorf("reading enrolled agent: %w", err))
			continue
		}
		var a Agent
		if err := json.Unmarshal(b, &a); err != nil {
			errs = append(errs, fmt.Errorf("reading enrolled agent %s: %w", p, err))
			continue
		}
		if !event.ValidToken(a.Site) || !event.ValidToken(a.AgentID) || !nkeys.IsValidPublicUserKey(a.PublicKey) {
			errs = append(errs, fmt.Errorf("reading enrolled agent %s: bad site, agent id or public key", p))
			continue
		}
		out = append(out, a)
	}
	return out, errs
}
