// Package auth guards the collector's HTTP surface: every request but
// /healthz and the login page carries a bearer token or a console session,
// and either carries a role (metrics, analyst, admin) that says what it may
// do. Tokens (for the CLI, SIEM pulls and scrapers) are kept hashed
// (SHA-256) in the data directory's api-tokens.json; people's passwords
// are kept as argon2id hashes in users.json. A first start makes an admin
// token in api-token and a first admin's password in console-admin (both
// mode 0600) for the operator on the collector's host.
package auth
