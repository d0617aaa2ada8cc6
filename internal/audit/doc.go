// Package audit keeps carelens' audit trail: an append-only file of JSON
// lines, one per audited action (an erasure, a refused query, an export),
// each chained to the one before by a SHA-256 hash so that editing,
// deleting, reordering or truncating any line is detected, at that line.
//
// # Format
//
// Each line is one JSON object with the fields seq, time, actor, action,
// details (omitted when empty), prev and hash, in this order:
//
//	{"seq":1,"time":"2026-01-02T03:04:05.123456789Z","actor":"analyst:ana","action":"export","details":{"rows":1250},"prev":"…","hash":"…"}
//
// seq counts entries from 1; time is UTC. prev is the hex SHA-256 of the
// previous line (its bytes without the newline); the first line's prev is
// Genesis. hash is the hex SHA-256 of the line without its `,"hash":"…"`
// member (the line up to prev, closed with "}").
//
// Beside the log, <path>.head (the anchor) holds the seq and the SHA-256 of
// the last line, replaced atomically after each append, so deleting lines at
// the end is detected too.
//
// # What it protects against
//
// The hashes are not keyed: whoever can rewrite both the log and the anchor
// can rebuild a consistent chain. The chain makes such a rewrite visible to
// anyone who kept an earlier head (Log.Head): ship heads to a separate
// system (a syslog host, a ticket, the backup) to make the trail
// tamper-evident against its own administrators.
//
// # What goes in
//
// Details carry ids (runs, snapshots, surrogate patient ids, export ids),
// counts and names (metrics, definitions, roles): never PHI, never source
// identifiers, never free text a user typed. The log is kept as long as the
// audit policy says, far longer than the data it describes, and must not
// become a second copy of it. Append accepts only flat maps of short scalar
// values to make that hard to get wrong.
package audit
