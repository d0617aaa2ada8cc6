// Package auth is carelens' access control for the HTTP API: it maps API keys
// to principals (a name and a role) and says what each role may do.
//
// Keys are random 32-byte strings (base64url, 43 characters) handed to their
// holders once; carelens keeps only their SHA-256 hashes, in a JSON key file
// (setting api_keys_file):
//
//	{"keys": [
//	  {"name": "alice", "role": "analyst", "sha256": "5be0…(64 hex digits)"},
//	  {"name": "ops", "role": "admin", "sha256": "c71a…(64 hex digits)"}
//	]}
//
// A request presents its key as "Authorization: Bearer <key>"; the key's hash
// is compared with every configured hash in constant time. Without a key
// file the server runs in open mode, where every request is Anonymous (an
// analyst, never an admin). See docs/access.md.
package auth
