// Package ocsfschema checks OCSF events against the published schema, so
// the collector's OCSF output is tested to validate as a SIEM would
// validate it. schema-1.3.0.json is the OCSF 1.3.0 schema compiled by
// internal/compile from github.com/ocsf/ocsf-schema (Apache License 2.0)
// at its v1.3.0 release commit: each class and object with its attributes,
// types, requirements and enum values.
package ocsfschema
