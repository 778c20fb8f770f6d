// Package auth guards the collector's HTTP surface: every request but
// /healthz carries a bearer token, and a token carries a role that says
// what it may read. Tokens are kept hashed (SHA-256) in the data
// directory's api-tokens.json; the plaintext is shown once, when a token
// is made, and a first start makes an admin token in api-token (mode 0600)
// for the operator on the collector's host.
package auth
