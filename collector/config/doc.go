// Package config is the collector's configuration: collector.hcl, and the
// run flags that override it, one flag for each attribute.
package config
