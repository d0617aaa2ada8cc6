// Package pgsrc pulls CRM export-contract records (docs/crm-export.md)
// straight from a CRM's own PostgreSQL tables, through a mapping file.
//
// # Mapping file
//
// A JSON object naming, for each contract entity, the table that holds it,
// its key, its change timestamp, an optional row filter, and the column of
// each contract field:
//
//	{"entities": {
//	  "contacts": {
//	    "table": "crm.person",
//	    "key": "person_id",
//	    "updated_at": "updated_at",
//	    "where": "NOT is_deleted",
//	    "fields": {"contact_id": "person_id", "mrn": "chart_no", "preferred_channel": "channel_pref"}
//	  },
//	  "messages": {
//	    "table": "crm.outreach", "key": "outreach_id", "updated_at": "updated_at",
//	    "fields": {"message_id": "outreach_id", "contact_id": "person_id", "purpose": "reason",
//	               "channel": "medium", "sent_at": "sent_ts"}
//	  }
//	}}
//
// Entities are contacts, campaigns, messages, message_events,
// survey_responses and consents; those left out are not pulled. For each:
//
//   - table: "schema.table" ("table" alone means schema public); exact
//     names, no SQL quoting.
//   - key: a NOT NULL column with a primary key or a unique index on it
//     alone; rows are read in its order, a page at a time.
//   - updated_at: a timestamptz or timestamp (read as UTC) column the CRM
//     advances whenever a row changes; it drives incremental pulls.
//   - where (optional): an SQL boolean expression on the table's columns
//     choosing the rows to pull. It is operator configuration, not input,
//     and must not use parameters. It filters rows; it does not report
//     deletions.
//   - fields: contract field name → column name. Fields are those of the
//     contract; the contract's required fields must be mapped. Several
//     fields may share a column.
//
// Unknown keys, entities or fields are errors. Open checks the file and then
// the schema (information_schema and pg_index, as the connecting role sees
// them), and reports every problem at once in a *MappingError, one line
// each: "mapping: entities.contacts.fields.mrn: column crm.person.chart_no
// does not exist".
//
// # Pulling
//
// Pull reads the mapped entities in contract order in one REPEATABLE READ,
// READ ONLY transaction: one consistent snapshot, no writes possible. Each
// entity is read with keyset pagination (WHERE updated_at >= $since AND key
// > $last ORDER BY key LIMIT $page), so memory holds one page, and the
// pages go to a callback. Pull returns per entity the greatest updated_at
// it read: the watermark to pass as since next time. Because the predicate
// is >=, rows whose updated_at equals the watermark come back again on the
// next pull; a row committed later with that same timestamp is therefore
// not missed. Loading must be idempotent by key, which it is for a source
// that re-sends changed rows anyway. An index on updated_at keeps
// incremental pulls cheap. Pulls hold ACCESS SHARE locks on the tables,
// like pg_dump: DDL on them waits.
//
// # Values
//
// Values are fetched in PostgreSQL's binary format and formatted here, so
// DateStyle, TimeZone and locale settings do not matter (the session runs
// in UTC anyway):
//
//	NULL                        ""
//	text, varchar, char, name   as stored (char keeps its padding)
//	boolean                     "true", "false"
//	smallint, integer, bigint   decimal
//	numeric                     decimal with the column's scale ("12.50"); NaN, ±Infinity: row error
//	timestamptz                 RFC 3339 in UTC, fraction only when not zero ("2025-03-04T09:15:00Z")
//	timestamp                   "2025-03-04 09:15:00" (the contract reads it as UTC), fraction only when not zero
//	date                        "2025-03-04"
//	enum                        its label
//	uuid                        lowercase 8-4-4-4-12
//	domains                     as their base type
//
// Infinite or out-of-range (years outside 1–9999) dates and timestamps, and
// columns of any other type (json, jsonb, arrays, bytea, float, …), give the
// row an Err such as "field mrn: unsupported column type jsonb"; the pull
// goes on, and the caller quarantines the row by its ordinal Row.N.
//
// Errors and Row.Err name entities, fields, tables and columns, never row
// values; PostgreSQL errors whose message may quote a value (data
// exceptions, constraint violations, raised exceptions) keep only their
// SQLSTATE.
package pgsrc
