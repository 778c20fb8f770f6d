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
	"github.com/vigilhq/vigil/event"
)

// An external NATS cluster (and each site's leaf node, where agents
// connect) enforces what the embedded server does only if its
// configuration gives every enrolled agent's key the same permissions.
// CoreConfig and LeafConfig write that configuration from the enrolment
// records, so "publish only your own subjects" holds at scale too.

// CollectorKeyFile is the collector's own NKey seed in its data
// directory, for its connection to an external cluster.
const CollectorKeyFile = "collector.nk"

// LeafKeyFile is the NKey seed in the collector's data directory that the
// leaf node of site signs in to the cluster with.
func LeafKeyFile(site string) string { return "leaf-" + site + ".nk" }

// CollectorKey returns the public key of the collector's NKey seed in
// dataDir, making the seed (mode 0600) on first use.
func CollectorKey(dataDir string) (string, error) {
	kp, err := userKey(filepath.Join(dataDir, CollectorKeyFile), "the collector's key")
	if err != nil {
		return "", err
	}
	return kp.PublicKey()
}

// LeafKey returns the NKey of site's leaf node, kept in dataDir and made
// (mode 0600) on first use.
func LeafKey(dataDir, site string) (nkeys.KeyPair, error) {
	if !event.ValidToken(site) {
		return nil, fmt.Errorf("site %q is not a valid site name", site)
	}
	return userKey(filepath.Join(dataDir, LeafKeyFile(site)), "the key of site "+site+"'s leaf node")
}

// userKey reads the user NKey seed at path, making it first if absent.
func userKey(path, what string) (nkeys.KeyPair, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if err := writeUserKey(path, what); err != nil {
			return nil, err
		}
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", what, err)
	}
	kp, err := nkeys.ParseDecoratedNKey(b)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", what, path, err)
	}
	if pub, err := kp.PublicKey(); err != nil || !nkeys.IsValidPublicUserKey(pub) {
		return nil, fmt.Errorf("%s %s: not a user seed", what, path)
	}
	return kp, nil
}

// writeUserKey makes a new seed at path, which must not exist.
func writeUserKey(path, what string) error {
	kp, err := nkeys.CreateUser()
	if err != nil {
		return fmt.Errorf("making %s: %w", what, err)
	}
	seed, _ := kp.Seed()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("making %s: %w", what, err)
	}
	_, err = fmt.Fprintf(f, "-----BEGIN USER NKEY SEED-----\n%s\n------END USER NKEY SEED------\n", seed)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("writing %s %s: %w", what, path, err)
	}
	return nil
}

// CoreConfig is the authorization block of the cluster's core nodes: the
// key collectorPub may do everything, each agent what the embedded server
// lets it do, and the leaf node of each site (leaves: site -> public key)
// no more than the site's agents together, so a site's leaf node cannot
// speak for another site's agents nor read what is not theirs.
func CoreConfig(collectorPub string, leaves map[string]string, agents []enrol.Agent) ([]byte, error) {
	if !nkeys.IsValidPublicUserKey(collectorPub) {
		return nil, fmt.Errorf("collector key %q is not a user public key", collectorPub)
	}
	agents = sortedAgents(agents)
	var b bytes.Buffer
	b.WriteString("# The keys vigil's collector, agents and sites' leaf nodes connect with, and\n" +
		"# what each may do: written by vigil-collector nats-config from its enrolment\n" +
		"# records. Make it again after each vigil enrol or --revoke, then reload the\n" +
		"# servers.\n" +
		"authorization {\n  users = [\n")
	fmt.Fprintf(&b, "    {nkey: %q}  # the collector\n", collectorPub)
	if err := writeAgentUsers(&b, agents); err != nil {
		return nil, err
	}
	sites := make([]string, 0, len(leaves))
	for site := range leaves {
		sites = append(sites, site)
	}
	slices.Sort(sites)
	for _, site := range sites {
		if !nkeys.IsValidPublicUserKey(leaves[site]) {
			return nil, fmt.Errorf("leaf node of site %s: key %q is not a user public key", site, leaves[site])
		}
		p, err := LeafPermissions(site, agents)
		if err != nil {
			return nil, err
		}
		perms, err := permissionsConfig(p)
		if err != nil {
			return nil, fmt.Errorf("leaf node of site %s: %w", site, err)
		}
		fmt.Fprintf(&b, "    {nkey: %q, permissions: %s}  # the leaf node of site %s\n", leaves[site], perms, site)
	}
	b.WriteString("  ]\n}\n")
	return b.Bytes(), nil
}

// writeAgentUsers writes one users entry per agent.
func writeAgentUsers(b *bytes.Buffer, agents []enrol.Agent) error {
	for _, a := range agents {
		if !nkeys.IsValidPublicUserKey(a.PublicKey) {
			return fmt.Errorf("agent %s: key %q is not a user public key", a.AgentID, a.PublicKey)
		}
		perms, err := permissionsConfig(AgentPermissions(a.Site, a.AgentID))
		if err != nil {
			return fmt.Errorf("agent %s: %w", a.AgentID, err)
		}
		fmt.Fprintf(b, "    {nkey: %q, permissions: %s}  # %s %s\n", a.PublicKey, perms, a.Site, oneLine(a.Host))
	}
	return nil
}

func sortedAgents(agents []enrol.Agent) []enrol.Agent {
	agents = slices.Clone(agents)
	slices.SortFunc(agents, func(a, b enrol.Agent) int {
		return strings.Compare(a.Site+"\x00"+a.AgentID, b.Site+"\x00"+b.AgentID)
	})
	return agents
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
