package fhir

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/carelens/carelens/etl/deid"
	"github.com/carelens/carelens/etl/fhir/fhirpath"
	"github.com/carelens/carelens/etl/fhir/view"
	"github.com/carelens/carelens/internal/store"
)

// Column tags carelens reads (etl/fhir/views/README.md).
const (
	// DeidTag says how a value is de-identified.
	DeidTag = "carelens:deid"
	// KeyTag marks the column loads upsert by, when it is not the
	// de-identified resource key (a clinic's own id, a value set's URL).
	KeyTag = "carelens:key"
	// MapTag translates the value through a ConceptMap (canonical URL).
	MapTag = "carelens:conceptmap"
	// ValueSetTag requires the value to be a code of a ValueSet.
	ValueSetTag = "carelens:valueset"
	// DefaultTag gives the value used when the path gives nothing.
	DefaultTag = "carelens:default"
	// VaultTag marks a column that goes to the vault, never to the table:
	// "mrn" binds each "system|value" it gives to the row's patient.
	VaultTag = "carelens:vault"
	// RequireTag marks a boolean column that is not stored: when it is not
	// true the record is quarantined with the tag's value as the reason.
	RequireTag = "carelens:require"
)

// viewColType maps a ViewDefinition column type to a warehouse column type.
var viewColType = map[string]store.ColType{
	"string": store.String, "code": store.String, "id": store.String, "uri": store.String,
	"url": store.String, "canonical": store.String, "oid": store.String, "uuid": store.String,
	"markdown": store.String,
	"boolean":  store.Bool,
	"integer":  store.Int32, "positiveInt": store.Int32, "unsignedInt": store.Int32,
	"integer64": store.Int64,
	"decimal":   store.Float64,
	"date":      store.Date,
	"dateTime":  store.Timestamp, "instant": store.Timestamp,
}

// identifierElements are FHIR elements that hold direct identifiers or free
// text; a view may not select them (except a postal code through zip3).
var identifierElements = map[string]bool{
	"name": true, "telecom": true, "line": true, "city": true, "district": true, "text": true,
	"note": true, "comment": true, "description": true, "photo": true, "identifier": true,
	"display": true, "contact": true, "payload": true, "valueString": true,
	"valueAttachment": true, "content": true,
}

// notAboutPersons lists, per resource type that never describes an
// individual, the identifier elements a view may select there: a clinic's
// name, a value set's title and displays.
var notAboutPersons = map[string]map[string]bool{
	"Organization": {"name": true},
	"Location":     {"name": true},
	"ValueSet":     {"name": true, "identifier": true, "display": true, "description": true},
}

var (
	fhirpathString = regexp.MustCompile(`'(?:[^'\\]|\\.)*'`)
	fhirpathName   = regexp.MustCompile("[A-Za-z_][A-Za-z0-9_]*|`[^`]*`")
)

// selectsIdentifier returns the first identifier element a path names that
// resource may not expose, or "".
func selectsIdentifier(resource, path string) string {
	for _, tok := range fhirpathName.FindAllString(fhirpathString.ReplaceAllString(path, "''"), -1) {
		tok = strings.Trim(tok, "`")
		if identifierElements[tok] && !notAboutPersons[resource][tok] {
			return tok
		}
	}
	return ""
}

// deidKinds are the values DeidTag may take; record:<Type> is checked apart.
var deidKinds = map[string]store.ColType{
	"patient": store.String, "record": store.String, "zip3": store.String,
	"birth_date": store.Date, "birth_year": store.Int32, "age_90_plus": store.Bool,
}

// colRole is where a view column's value goes.
type colRole int

const (
	roleTable   colRole = iota // a table column
	roleVault                  // the vault (VaultTag), never the table
	roleRequire                // a record check (RequireTag), not stored
)

type viewColumn struct {
	name     string
	resource string // the view's resource type, for record keys
	typ      store.ColType
	deid     string
	required bool
	table    int // position in the table
	role     colRole
	reason   string         // RequireTag: the quarantine reason
	check    *fhirpath.Expr // RequireTag: evaluated on the resource
	cmap     *conceptMap    // MapTag
	vset     map[string]bool
	vsURL    string
	def      any // DefaultTag, converted to typ; nil = none
}

// LoadViews compiles every *.json ViewDefinition in fsys into an entity that
// loads the table named like the view, checking each against the table the
// warehouse has (describe) and resolving its ConceptMaps and ValueSets from
// terminology/*.json. It reports every problem as "file: what". Entities
// come in file order, except that Patient views come first: a patient's
// identifiers are in the vault before anything else is read.
func LoadViews(fsys fs.FS, describe func(table string) ([]store.ColumnInfo, error)) ([]*Entity, []error) {
	term, errs := LoadTerminology(fsys)
	files, err := fs.Glob(fsys, "*.json")
	if err != nil {
		return nil, []error{err}
	}
	var ents []*Entity
	for _, f := range files {
		b, err := fs.ReadFile(fsys, f)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f, err))
			continue
		}
		v, err := view.Load(b)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f, err))
			continue
		}
		if want := strings.TrimSuffix(path.Base(f), ".json"); v.Name() != want {
			errs = append(errs, fmt.Errorf("%s: view name %q must be the file name %q (the table it fills)", f, v.Name(), want))
			continue
		}
		cols, err := describe(v.Name())
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f, err))
			continue
		}
		ent, es := newViewEntity(v, cols, term)
		for _, e := range es {
			errs = append(errs, fmt.Errorf("%s: %w", f, e))
		}
		if len(es) == 0 {
			ents = append(ents, ent)
		}
	}
	sort.SliceStable(ents, func(i, j int) bool { return ents[i].Type == "Patient" && ents[j].Type != "Patient" })
	return ents, errs
}

func newViewEntity(v *view.View, table []store.ColumnInfo, term *Terminology) (*Entity, []error) {
	var errs []error
	pos := map[string]int{}
	t := &store.Table{Name: v.Name()}
	for i, c := range table {
		ct, ok := store.ColTypeOf(c.Type)
		if !ok {
			errs = append(errs, fmt.Errorf("table column %s has type %s, which views cannot fill", c.Name, c.Type))
		}
		pos[c.Name] = i
		t.Columns = append(t.Columns, store.Column{Name: c.Name, Type: ct})
	}
	seen := map[string]bool{}
	var cols []viewColumn
	var keyDeid string
	var keyCols, patientCols int
	for _, c := range v.Columns() {
		vc := viewColumn{name: c.Name, resource: v.Resource()}
		var err error
		vc.deid, _ = c.Tag(DeidTag)
		vault, isVault := c.Tag(VaultTag)
		reason, isRequire := c.Tag(RequireTag)
		typ, ok := viewColType[c.Type]
		if !ok {
			errs = append(errs, fmt.Errorf("column %s: type %q is not a loadable FHIR primitive (declare one)", c.Name, c.Type))
		}
		switch {
		case isVault:
			vc.role = roleVault
			if vault != "mrn" {
				errs = append(errs, fmt.Errorf("column %s: unknown %s %q (mrn binds \"system|value\" strings to the row's patient)", c.Name, VaultTag, vault))
			}
			if typ != store.String || vc.deid != "" {
				errs = append(errs, fmt.Errorf("column %s: a %s column gives strings and has no other de-identification", c.Name, VaultTag))
			}
			cols = append(cols, vc)
			continue
		case isRequire:
			vc.role, vc.reason = roleRequire, reason
			if typ != store.Bool || reason == "" {
				errs = append(errs, fmt.Errorf("column %s: a %s column is boolean and its tag value is the quarantine reason", c.Name, RequireTag))
			}
			if vc.check, err = fhirpath.Parse(c.Path); err != nil {
				errs = append(errs, fmt.Errorf("column %s: %w", c.Name, err))
			}
			if selectsIdentifier(v.Resource(), c.Path) != "" {
				errs = append(errs, fmt.Errorf("column %s: a check may not read an identifier or free text", c.Name))
			}
			cols = append(cols, vc)
			continue
		}
		i, ok := pos[c.Name]
		if !ok {
			errs = append(errs, fmt.Errorf("column %s: the table has no such column", c.Name))
			continue
		}
		seen[c.Name] = true
		vc.table, vc.required = i, !table[i].Nullable
		if c.Collection {
			errs = append(errs, fmt.Errorf("column %s: collection columns are not loaded; select one value", c.Name))
		}
		if k, ok := deidKinds[vc.deid]; ok {
			typ = k
		} else if vc.deid != "" && !strings.HasPrefix(vc.deid, "record:") {
			errs = append(errs, fmt.Errorf("column %s: unknown %s %q", c.Name, DeidTag, vc.deid))
		}
		vc.typ = typ
		if typ != t.Columns[i].Type {
			errs = append(errs, fmt.Errorf("column %s: the view gives %s, the table has %s", c.Name, typ.DuckDB(), t.Columns[i].Type.DuckDB()))
		}
		if el := selectsIdentifier(v.Resource(), c.Path); vc.deid == "" && el != "" {
			errs = append(errs, fmt.Errorf("column %s: path %q selects an identifier or free text (%s), which never enters the warehouse", c.Name, c.Path, el))
		}
		if url, ok := c.Tag(MapTag); ok {
			if vc.cmap = term.maps[url]; vc.cmap == nil {
				errs = append(errs, fmt.Errorf("column %s: no ConceptMap %s in terminology/", c.Name, url))
			}
		}
		if url, ok := c.Tag(ValueSetTag); ok {
			if vc.vset, vc.vsURL = term.sets[url], url; vc.vset == nil {
				errs = append(errs, fmt.Errorf("column %s: no ValueSet %s in terminology/", c.Name, url))
			}
		}
		if d, ok := c.Tag(DefaultTag); ok {
			if vc.def, err = parseDefault(d, typ); err != nil {
				errs = append(errs, fmt.Errorf("column %s: default: %w", c.Name, err))
			}
		}
		if (vc.cmap != nil || vc.vset != nil) && typ != store.String {
			errs = append(errs, fmt.Errorf("column %s: codes are translated and checked as strings", c.Name))
		}
		if k, _ := c.Tag(KeyTag); k == "true" || (vc.deid == "record" && keyDeid == "") {
			if k == "true" {
				keyCols++
			}
			t.Key, keyDeid = c.Name, vc.deid
		}
		if vc.deid == "patient" {
			patientCols++
		}
		cols = append(cols, vc)
	}
	for _, c := range table {
		if !seen[c.Name] && !c.Nullable {
			errs = append(errs, fmt.Errorf("table column %s is NOT NULL but the view does not fill it", c.Name))
		}
	}
	switch {
	case keyCols > 1:
		errs = append(errs, fmt.Errorf("more than one column tagged %s", KeyTag))
	case t.Key == "":
		errs = append(errs, fmt.Errorf("no column tagged %s=record or %s=true: the table needs the resource's key", DeidTag, KeyTag))
	}
	for _, c := range cols {
		if c.role == roleVault && patientCols != 1 {
			errs = append(errs, fmt.Errorf("column %s: a %s column needs exactly one %s=patient column to bind to", c.name, VaultTag, DeidTag))
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	typ := v.Resource()
	return &Entity{Type: typ, Table: t, KeyOf: keyOf(typ, keyDeid), Map: func(m *Mapper, raw []byte, b *store.Batch, seq int64) error {
		return mapView(m, v, typ, cols, len(t.Columns), raw, b, seq)
	}}, nil
}

// keyOf returns how a resource id becomes the table's key value.
func keyOf(typ, deidKind string) func(v *deid.Vault, id string) (string, bool) {
	switch deidKind {
	case "record":
		return func(v *deid.Vault, id string) (string, bool) { return v.RecordKey(typ, id), true }
	case "patient":
		return func(v *deid.Vault, id string) (string, bool) { return v.Lookup(deid.NSPatient, id) }
	}
	return func(_ *deid.Vault, id string) (string, bool) { return id, true }
}

func parseDefault(s string, t store.ColType) (any, error) {
	switch t {
	case store.String:
		return s, nil
	case store.Bool:
		switch s {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
	case store.Int32:
		if n, err := strconv.ParseInt(s, 10, 32); err == nil {
			return int32(n), nil
		}
	case store.Int64:
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n, nil
		}
	case store.Float64:
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return f, nil
		}
	}
	return nil, fmt.Errorf("%q is not a %s", s, strings.ToLower(t.DuckDB()))
}

var jsonDecoders = sync.Pool{New: func() any { return newJSONDecoder() }}

// mapView decodes one resource, checks it, runs the view and appends its
// rows once every value converted; a value that does not convert
// quarantines the record with the column's name, never the value.
func mapView(m *Mapper, v *view.View, typ string, cols []viewColumn, width int, raw []byte, b *store.Batch, seq int64) error {
	d := jsonDecoders.Get().(*jsonDecoder)
	doc, err := d.decode(raw)
	jsonDecoders.Put(d)
	res, ok := doc.(map[string]any)
	if err != nil || !ok {
		return bad("malformed JSON")
	}
	rt, _ := res["resourceType"].(string)
	if rt != typ {
		if rt == "" {
			return bad("no resourceType")
		}
		return bad("resourceType %s where %s expected", safeToken(rt), typ)
	}
	if id, _ := res["id"].(string); id == "" {
		return bad("%s without id", typ)
	}
	for _, c := range cols {
		if c.role != roleRequire {
			continue
		}
		env := fhirpath.Env{Resource: res}
		out, err := c.check.Eval(&env, []any{res})
		if err != nil {
			return bad("view %s could not be evaluated", v.Name())
		}
		if ok := len(out) == 1 && fhirpath.Plain(out[0]) == true; !ok {
			return bad("%s", c.reason)
		}
	}
	var rows [][]any
	type binding struct{ mrn, patient string }
	var binds []binding
	err = v.Rows(res, func(row []any) error {
		out := make([]any, width)
		var patient string
		for i, c := range cols {
			if c.role != roleTable {
				continue
			}
			val, err := convert(m, c, row[i])
			if err != nil {
				return err
			}
			if val == nil && c.required {
				return bad("%s: missing", c.name)
			}
			if c.deid == "patient" {
				patient, _ = val.(string)
			}
			out[c.table] = val
		}
		if err := applyDates(m, cols, out, patient); err != nil {
			return err
		}
		for i, c := range cols {
			if c.role != roleVault || patient == "" {
				continue
			}
			vals, ok := row[i].([]any)
			if !ok && row[i] != nil {
				vals = []any{row[i]}
			}
			for _, x := range vals {
				if s, ok := x.(string); ok && strings.Contains(s, "|") && !strings.HasSuffix(s, "|") {
					binds = append(binds, binding{s, patient})
				}
			}
		}
		rows = append(rows, out)
		return nil
	})
	if err != nil {
		var re *RecordError
		switch {
		case errors.As(err, &re):
			return err
		case errors.Is(err, view.ErrMultipleValues):
			return bad("a column got more than one value")
		}
		return bad("view %s could not be evaluated", v.Name())
	}
	for _, bd := range binds {
		// The same MRN on two patient records (a duplicate, or one value
		// issued by two authorities) loads both patients but links neither
		// to a CRM contact by that MRN.
		m.Vault.BindShared(deid.NSMRN, bd.mrn, bd.patient)
		m.Vault.BindShared(deid.NSMRNValue, bd.mrn[strings.IndexByte(bd.mrn, '|')+1:], bd.patient)
	}
	for _, r := range rows {
		row := b.Row()
		for i, col := range b.Columns() {
			appendValue(row, col.Type, r[i])
		}
		row.End(seq)
	}
	return nil
}

// applyDates applies the profile's date rule to a row of a patient: every
// date and time moves (shifted) or keeps its year only (safe_harbor), and a
// birth date is kept by the limited profile only (the birth year stays).
func applyDates(m *Mapper, cols []viewColumn, out []any, patient string) error {
	if m.Dates == nil || m.Dates.Profile == deid.ProfileLimited {
		return nil
	}
	for _, c := range cols {
		if c.role != roleTable || out[c.table] == nil {
			continue
		}
		switch {
		case c.deid == "birth_date":
			out[c.table] = nil
		case c.deid == "" && (c.typ == store.Date || c.typ == store.Timestamp) && patient != "":
			t, err := m.Dates.Date(patient, out[c.table].(time.Time))
			if err != nil {
				return err
			}
			out[c.table] = t
		}
	}
	return nil
}

// convert turns a view value into the column's Go value (nil = NULL),
// applying its de-identification, translation, binding and default.
func convert(m *Mapper, c viewColumn, v any) (any, error) {
	if v == nil {
		if c.deid == "age_90_plus" {
			return false, nil // no birth date: not known to be over 89
		}
		return c.def, nil
	}
	s, isStr := v.(string)
	switch c.deid {
	case "patient":
		if !isStr || s == "" {
			return nil, bad("%s: not a Patient id", c.name)
		}
		sur, err := m.Vault.Surrogate(deid.NSPatient, s)
		if errors.Is(err, deid.ErrErased) {
			return nil, bad("%s: the patient was erased (GDPR art. 17): not loaded", c.name)
		}
		return sur, err
	case "record":
		return m.Vault.RecordKey(c.resource, s), nil
	case "zip3":
		if z := deid.ZIP3(s); z != "" {
			return z, nil
		}
		return nil, nil
	case "birth_date", "birth_year", "age_90_plus":
		t, err := ParseDateTime(s)
		if err != nil || !isStr {
			return nil, bad("%s: invalid date", c.name)
		}
		over := deid.Over89(t, m.AsOf)
		switch c.deid {
		case "age_90_plus":
			return over, nil
		case "birth_year":
			if over {
				return nil, nil
			}
			return int32(t.Year()), nil
		}
		if over {
			return nil, nil
		}
		return t, nil
	}
	if strings.HasPrefix(c.deid, "record:") {
		if !isStr || s == "" {
			return nil, nil
		}
		return m.Vault.RecordKey(strings.TrimPrefix(c.deid, "record:"), s), nil
	}
	if c.cmap != nil || c.vset != nil {
		if !isStr {
			return nil, bad("%s: not a code", c.name)
		}
		if c.cmap != nil {
			t, ok := c.cmap.translate(s)
			if !ok {
				return nil, bad("%s: code not in ConceptMap %s", c.name, c.cmap.url)
			}
			s = t
		}
		if c.vset != nil && !c.vset[s] {
			return nil, bad("%s: not a code of %s", c.name, c.vsURL)
		}
		return s, nil
	}
	switch c.typ {
	case store.String:
		switch x := v.(type) {
		case string:
			return x, nil
		case json.Number:
			return x.String(), nil
		case bool:
			if x {
				return "true", nil
			}
			return "false", nil
		}
	case store.Bool:
		if x, ok := v.(bool); ok {
			return x, nil
		}
	case store.Int32, store.Int64:
		if x, ok := v.(json.Number); ok {
			n, err := x.Int64()
			if err != nil {
				// A decimal with no fraction (30.0, a rounded quantity).
				if f, ferr := x.Float64(); ferr == nil && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
					n, err = int64(f), nil
				}
			}
			if err == nil && (c.typ == store.Int64 || (n >= math.MinInt32 && n <= math.MaxInt32)) {
				if c.typ == store.Int32 {
					return int32(n), nil
				}
				return n, nil
			}
		}
	case store.Float64:
		if x, ok := v.(json.Number); ok {
			if f, err := x.Float64(); err == nil {
				return f, nil
			}
		}
	case store.Date, store.Timestamp:
		if isStr {
			if t, err := ParseDateTime(s); err == nil {
				return t, nil
			}
		}
		return nil, bad("%s: invalid date", c.name)
	}
	return nil, bad("%s: not a %s", c.name, strings.ToLower(c.typ.DuckDB()))
}

func appendValue(b *store.Batch, t store.ColType, v any) {
	switch t {
	case store.String:
		s, _ := v.(string)
		b.Str(s)
	case store.Int32:
		n, ok := v.(int32)
		b.Int32(n, ok)
	case store.Int64:
		n, ok := v.(int64)
		b.Int64(n, ok)
	case store.Float64:
		f, ok := v.(float64)
		b.Float(f, ok)
	case store.Bool:
		x, ok := v.(bool)
		b.NullBool(x, ok)
	case store.Date:
		d, _ := v.(time.Time)
		b.Date(d)
	case store.Timestamp:
		d, _ := v.(time.Time)
		b.Time(d)
	}
}
