package crm

import "strings"

// Record is one logical CRM record of an entity: its fields named as in the
// export contract (docs/crm-export.md) and valued in the contract's text
// formats. Every source (CSV and NDJSON files, the REST pull, the
// PostgreSQL pull) yields Records, so all of them go through the same
// mappers into the same warehouse rows.
type Record interface {
	// Get returns the trimmed value of a contract field, "" when absent.
	Get(field string) string
}

// Fields is a Record built from named values.
type Fields map[string]string

// Get implements Record.
func (f Fields) Get(field string) string { return strings.TrimSpace(f[field]) }
