package bus

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nkeys"

	"github.com/vigilhq/vigil/collector/enrol"
)

// An external NATS cluster (and each site's leaf node, where agents
// connect) enforces what the embedded server does only if its
// configuration gives every enrolled agent's key the same permissions.
// AuthorizationConfig writes that configuration from the enrolment
// records, so "publish only your own subjects" holds at scale too.

// CollectorKeyFile is the collector's own NKey seed in its data
// directory, for its connection to an external cluster.
const CollectorKeyFile = "collector.nk"

// CollectorKey returns the public key of the collector's NKey seed in
// dataDir, making the seed (mode 0600) on first use.
func CollectorKey(dataDir string) (string, error) {
	path := filepath.Join(dataDir, CollectorKeyFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if err := writeCollectorKey(path); err != nil {
			return "", err
		}
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return "", fmt.Errorf("reading the collector's key: %w", err)
	}
	kp, err := nkeys.ParseDecoratedNKey(b)
	if err != nil {
		return "", fmt.Errorf("the collector's key %s: %w", path, err)
	}
	return kp.PublicKey()
}

// writeCollectorKey makes a new seed at path, which must not exist.
func writeCollectorKey(path string) error {
	kp, err := nkeys.CreateUser()
	if err != nil {
		return fmt.Errorf("making the collector's key: %w", err)
	}
	seed, _ := kp.Seed()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("making the collector's key: %w", err)
	}
	_, err = fmt.Fprintf(f, "-----BEGIN USER NKEY SEED-----\n%s\n------END USER NKEY SEED------\n", seed)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("writing the collector's key %s: %w", path, err)
	}
	return nil
}

// AuthorizationConfig is a nats-server configuration block giving the key
// collectorPub every permission and each agent (of sites, when given) the
// permissions the embedded server gives it. Include it in each server's
// configuration where agents or the collector connect.
func AuthorizationConfig(collectorPub string, agents []enrol.Agent, sites []string) ([]byte, error) {
	if !nkeys.IsValidPublicUserKey(collectorPub) {
		return nil, fmt.Errorf("collector key %q is not a user public key", collectorPub)
	}
	agents = slices.Clone(agents)
	slices.SortFunc(agents, func(a, b enrol.Agent) int {
		return strings.Compare(a.Site+"\x00"+a.AgentID, b.Site+"\x00"+b.AgentID)
	})
	var b bytes.Buffer
	b.WriteString("# The keys vigil's agents and collector connect with, and what each may do:\n" +
		"# written by vigil-collector nats-config from its enrolment records. Make it\n" +
		"# again after each vigil enrol or --revoke, then reload the server.\n" +
		"authorization {\n  users = [\n")
	fmt.Fprintf(&b, "    {nkey: %q}  # the collector\n", collectorPub)
	for _, a := range agents {
		if len(sites) > 0 && !slices.Contains(sites, a.Site) {
			continue
		}
		if !nkeys.IsValidPublicUserKey(a.PublicKey) {
			return nil, fmt.Errorf("agent %s: key %q is not a user public key", a.AgentID, a.PublicKey)
		}
		perms, err := permissionsConfig(AgentPermissions(a.Site, a.AgentID))
		if err != nil {
			return nil, fmt.Errorf("agent %s: %w", a.AgentID, err)
		}
		fmt.Fprintf(&b, "    {nkey: %q, permissions: %s}  # %s %s\n", a.PublicKey, perms, a.Site, oneLine(a.Host))
	}
	b.WriteString("  ]\n}\n")
	return b.Bytes(), nil
}

// permissionsConfig writes p in the server's configuration syntax, which
// takes JSON.
func permissionsConfig(p *server.Permissions) (string, error) {
	type subj struct {
		Allow []string `json:"allow,omitempty"`
		Deny  []string `json:"deny,omitempty"`
	}
	m := map[string]any{}
	if p.Publish != nil {
		m["publish"] = subj{p.Publish.Allow, p.Publish.Deny}
	}
	if p.Subscribe != nil {
		m["subscribe"] = subj{p.Subscribe.Allow, p.Subscribe.Deny}
	}
	if p.Response != nil {
		return "", errors.New("response permissions are not written")
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // the server's parser knows no \u escapes, and '>' is a wildcard
	if err := enc.Encode(m); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// oneLine keeps a host name from ending the comment it is put in.
func oneLine(s string) string { return strings.NewReplacer("\n", " ", "\r", " ").Replace(s) }
