package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/hashicorp/hcl/v2"

	"github.com/vigilhq/vigil/agent/config"
)

// defaultAgentConfig is where the agent package installs agent.hcl.
const defaultAgentConfig = "/etc/vigil/agent.hcl"

// agentIdentifiers lists the identifier names agents configured by path
// hash: the default path's when it exists, else an agent's defaults.
func agentIdentifiers(path string) ([]string, error) {
	if path == "" {
		if _, err := os.Stat(defaultAgentConfig); errors.Is(err, os.ErrNotExist) {
			return config.IdentifierNames(config.Default()), nil
		}
		path = defaultAgentConfig
	}
	cfg, diags := config.Load(path)
	if diags.HasErrors() {
		return nil, fmt.Errorf("reading the agents' config %s: %w", path, hcl.Diagnostics(diags))
	}
	return config.IdentifierNames(cfg), nil
}
