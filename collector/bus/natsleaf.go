package bus

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nkeys"

	"github.com/vigilhq/vigil/collector/enrol"
)

// LeafNKeyVariable is the configuration variable LeafConfig sets to the
// leaf node's seed, for the remote's nkey in the including file.
const LeafNKeyVariable = "VIGIL_LEAF_NKEY"

// LeafPermissions are what the leaf node of site may do on the cluster:
// together, what that site's enrolled agents may do, and nothing of any
// other site's agents. It is an error for the site to have no agent, since
// a leaf with nothing to carry has no business on the cluster.
func LeafPermissions(site string, agents []enrol.Agent) (*server.Permissions, error) {
	p := &server.Permissions{Publish: &server.SubjectPermission{}, Subscribe: &server.SubjectPermission{}}
	add := func(to *server.SubjectPermission, subjects []string) {
		for _, s := range subjects {
			if !slices.Contains(to.Allow, s) {
				to.Allow = append(to.Allow, s)
			}
		}
	}
	for _, a := range agents {
		if a.Site != site {
			continue
		}
		ap := AgentPermissions(a.Site, a.AgentID)
		add(p.Publish, ap.Publish.Allow)
		add(p.Subscribe, ap.Subscribe.Allow)
	}
	if len(p.Publish.Allow) == 0 {
		return nil, fmt.Errorf("leaf node of site %s: no agent of the site is enrolled", site)
	}
	return p, nil
}

// LeafConfig is the configuration the leaf node of site includes: its
// agents' keys and permissions (no other site's agent may connect there)
// and, as the variable LeafNKeyVariable, the seed of leaf (a secret) its
// remote signs in to the cluster with.
func LeafConfig(site string, leaf nkeys.KeyPair, agents []enrol.Agent) ([]byte, error) {
	var own []enrol.Agent
	for _, a := range sortedAgents(agents) {
		if a.Site == site {
			own = append(own, a)
		}
	}
	if len(own) == 0 {
		// An empty users list would leave the leaf node open to anyone.
		return nil, fmt.Errorf("leaf node of site %s: no agent of the site is enrolled", site)
	}
	seed, err := leaf.Seed()
	if err != nil {
		return nil, fmt.Errorf("leaf node of site %s: reading its seed: %w", site, err)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "# The leaf node of site %s: the keys its agents connect with and what each\n"+
		"# may do, and the seed (a secret: keep this file mode 0600) the leaf node signs\n"+
		"# in to the cluster with, for leafnodes { remotes = [ { urls: [...], nkey: $%s } ] }\n"+
		"# after including this file. Written by vigil-collector nats-config --leaf-site %s:\n"+
		"# make it again after each vigil enrol or --revoke, then reload the server.\n", site, LeafNKeyVariable, site)
	fmt.Fprintf(&b, "%s: %q\n", LeafNKeyVariable, seed)
	b.WriteString("authorization {\n  users = [\n")
	if err := writeAgentUsers(&b, own); err != nil {
		return nil, err
	}
	b.WriteString("  ]\n}\n")
	return b.Bytes(), nil
}
