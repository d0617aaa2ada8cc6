package pgsrc

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/carelens/carelens/etl/crm/contract"
)

// Mapping says where each contract entity lives in the CRM's own tables. It
// is decoded from the JSON mapping file described in the package
// documentation.
type Mapping struct {
	// Entities maps a contract entity name (contacts, campaigns, messages,
	// message_events, survey_responses, consents) to its table. Entities
	// left out are not pulled.
	Entities map[string]Entity
}

// Entity maps one contract entity onto one table.
type Entity struct {
	// Table is "schema.table", or "table" for schema public. Names are
	// exact (case-sensitive), not SQL: no quotes.
	Table string
	// Key is a unique, NOT NULL column (primary key or unique index) that
	// orders the rows for keyset pagination.
	Key string
	// UpdatedAt is a timestamptz or timestamp column (the latter taken as
	// UTC) that grows whenever a row changes: the incremental watermark.
	UpdatedAt string
	// Where is an optional SQL boolean expression on the table's columns
	// that selects the rows to pull. It is trusted configuration, written
	// by the operator, and must not use parameters ($1).
	Where string
	// Fields maps contract field names to column names of Table.
	Fields map[string]string
}

// MappingError lists every problem found in a mapping: in the file itself
// (ParseMapping) or against the database schema (Open). Each problem names
// the setting to fix, as "entities.contacts.fields.mrn: column
// crm.person.chart_no does not exist".
type MappingError struct {
	Problems []string
}

// Error returns one line per problem, each prefixed with "mapping: ".
func (e *MappingError) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString("mapping: ")
		b.WriteString(p)
	}
	return b.String()
}

// problems collects mapping problems.
type problems []string

func (p *problems) add(format string, args ...any) { *p = append(*p, fmt.Sprintf(format, args...)) }

// err returns nil when there is no problem, else a *MappingError with the
// problems sorted, so the order is stable.
func (p problems) err() error {
	if len(p) == 0 {
		return nil
	}
	out := slices.Clone(p)
	sort.Strings(out)
	return &MappingError{Problems: out}
}

// ParseMapping decodes a mapping file and checks it without a database:
// known keys only, known entity and contract field names, required fields
// mapped, table, key and updated_at given. Every problem is reported in one
// *MappingError. Open does the same and then checks the schema.
func ParseMapping(data []byte) (*Mapping, error) {
	m, probs := parseMapping(data)
	if err := probs.err(); err != nil {
		return nil, err
	}
	return m, nil
}

// Names returns the mapped entity names in contract order, the order Pull
// reads them in.
func (m *Mapping) Names() []string {
	var names []string
	for _, c := range contract.Specs {
		if _, ok := m.Entities[c.Name]; ok {
			names = append(names, c.Name)
		}
	}
	return names
}

// SplitTable splits Entity.Table into schema and table name; the schema
// defaults to public.
func (e Entity) SplitTable() (schema, table string) {
	if i := strings.IndexByte(e.Table, '.'); i >= 0 {
		return e.Table[:i], e.Table[i+1:]
	}
	return "public", e.Table
}

// parseMapping decodes what it can and returns every problem found; entities
// with problems are still returned so Open can check the rest of them
// against the schema.
func parseMapping(data []byte) (*Mapping, problems) {
	var probs problems
	m := &Mapping{Entities: map[string]Entity{}}
	top, ok := object(data, "", &probs)
	if !ok {
		return m, probs
	}
	for k := range top {
		if k != "entities" {
			probs.add("%s: unknown key", k)
		}
	}
	raw, ok := top["entities"]
	if !ok {
		probs.add("entities: missing")
		return m, probs
	}
	ents, ok := object(raw, "entities", &probs)
	if !ok {
		return m, probs
	}
	if len(ents) == 0 {
		probs.add("entities: no entity mapped")
	}
	for name, raw := range ents {
		path := "entities." + name
		idx := slices.IndexFunc(contract.Specs, func(c contract.Entity) bool { return c.Name == name })
		if idx < 0 {
			probs.add("%s: unknown entity (known: %s)", path, strings.Join(entityNames(), ", "))
			continue
		}
		e, ok := parseEntity(raw, path, idx, &probs)
		if ok {
			m.Entities[name] = e
		}
	}
	return m, probs
}

func entityNames() []string {
	names := make([]string, len(contract.Specs))
	for i, c := range contract.Specs {
		names[i] = c.Name
	}
	return names
}

func parseEntity(raw json.RawMessage, path string, idx int, probs *problems) (Entity, bool) {
	var e Entity
	obj, ok := object(raw, path, probs)
	if !ok {
		return e, false
	}
	for k, v := range obj {
		switch k {
		case "table":
			e.Table = str(v, path+".table", probs)
		case "key":
			e.Key = str(v, path+".key", probs)
		case "updated_at":
			e.UpdatedAt = str(v, path+".updated_at", probs)
		case "where":
			e.Where = str(v, path+".where", probs)
		case "fields":
			e.Fields = fields(v, path+".fields", probs)
		default:
			probs.add("%s.%s: unknown key", path, k)
		}
	}
	if e.Table == "" {
		probs.add("%s.table: missing", path)
	} else if strings.Count(e.Table, ".") > 1 || strings.HasPrefix(e.Table, ".") || strings.HasSuffix(e.Table, ".") {
		probs.add("%s.table: want \"schema.table\" or \"table\"", path)
	}
	if e.Key == "" {
		probs.add("%s.key: missing", path)
	}
	if e.UpdatedAt == "" {
		probs.add("%s.updated_at: missing", path)
	}
	c := contract.Specs[idx]
	for f, col := range e.Fields {
		if !slices.Contains(c.Fields, f) {
			probs.add("%s.fields.%s: not a field of the %s contract", path, f, c.Name)
		}
		if col == "" {
			probs.add("%s.fields.%s: empty column name", path, f)
		}
	}
	for _, f := range c.Required {
		if _, ok := e.Fields[f]; !ok {
			probs.add("%s.fields.%s: required field not mapped", path, f)
		}
	}
	return e, true
}

// object decodes a JSON object into its members.
func object(raw []byte, path string, probs *problems) (map[string]json.RawMessage, bool) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		if path == "" {
			probs.add("not a JSON object: %v", jsonErr(err))
		} else {
			probs.add("%s: want a JSON object", path)
		}
		return nil, false
	}
	return obj, true
}

func jsonErr(err error) string {
	if err == nil {
		return "null"
	}
	return err.Error()
}

func str(raw json.RawMessage, path string, probs *problems) string {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		probs.add("%s: want a string", path)
		return ""
	}
	return strings.TrimSpace(s)
}

func fields(raw json.RawMessage, path string, probs *problems) map[string]string {
	obj, ok := object(raw, path, probs)
	if !ok {
		return nil
	}
	out := make(map[string]string, len(obj))
	for f, v := range obj {
		out[f] = str(v, path+"."+f, probs)
	}
	return out
}
