// Package config reads vigil-agent's HCL configuration file.
package config
