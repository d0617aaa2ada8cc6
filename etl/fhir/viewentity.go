package fhir

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/carelens/carelens/etl/deid"
	"github.com/carelens/carelens/etl/fhir/view"
	"github.com/carelens/carelens/internal/store"
)

// DeidTag names the column tag that says how a value is de-identified
// (etl/fhir/views/README.md).
const DeidTag = "carelens:deid"

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
var identifierElements = regexp.MustCompile(`(^|[.(|\s])(name|telecom|line|city|district|text|note|comment|description|photo|identifier|display|contact|payload|valueString|valueAttachment|content)([.(\[\s]|$)`)

// deidKinds are the values DeidTag may take; record:<Type> is checked apart.
var deidKinds = map[string]store.ColType{
	"patient": store.String, "record": store.String, "zip3": store.String,
	"birth_date": store.Date, "birth_year": store.Int32, "age_90_plus": store.Bool,
}

type viewColumn struct {
	name     string
	resource string // the view's resource type, for record keys
	typ      store.ColType
	deid     string
	required bool
	table    int // position in the table
}

// LoadViews compiles every *.json ViewDefinition in fsys into an entity that
// loads the table named like the view, checking each against the table the
// warehouse has (describe). It reports every problem as "file: what".
func LoadViews(fsys fs.FS, describe func(table string) ([]store.ColumnInfo, error)) ([]*Entity, []error) {
	files, err := fs.Glob(fsys, "*.json")
	if err != nil {
		return nil, []error{err}
	}
	var ents []*Entity
	var errs []error
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
		ent, es := newViewEntity(v, cols)
		for _, e := range es {
			errs = append(errs, fmt.Errorf("%s: %w", f, e))
		}
		if len(es) == 0 {
			ents = append(ents, ent)
		}
	}
	return ents, errs
}

func newViewEntity(v *view.View, table []store.ColumnInfo) (*Entity, []error) {
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
	for _, c := range v.Columns() {
		i, ok := pos[c.Name]
		if !ok {
			errs = append(errs, fmt.Errorf("column %s: the table has no such column", c.Name))
			continue
		}
		seen[c.Name] = true
		vc := viewColumn{name: c.Name, resource: v.Resource(), table: i, required: !table[i].Nullable}
		vc.deid, _ = c.Tag(DeidTag)
		if c.Collection {
			errs = append(errs, fmt.Errorf("column %s: collection columns are not loaded; select one value", c.Name))
		}
		typ, ok := viewColType[c.Type]
		if !ok {
			errs = append(errs, fmt.Errorf("column %s: type %q is not a loadable FHIR primitive (declare one)", c.Name, c.Type))
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
		if vc.deid == "" && identifierElements.MatchString(c.Path) {
			errs = append(errs, fmt.Errorf("column %s: path %q selects an identifier or free text, which never enters the warehouse", c.Name, c.Path))
		}
		if vc.deid == "record" {
			t.Key = c.Name
		}
		cols = append(cols, vc)
	}
	for _, c := range table {
		if !seen[c.Name] && !c.Nullable {
			errs = append(errs, fmt.Errorf("table column %s is NOT NULL but the view does not fill it", c.Name))
		}
	}
	if t.Key == "" {
		errs = append(errs, fmt.Errorf("no column tagged %s=record: the table needs the resource's key", DeidTag))
	}
	if len(errs) > 0 {
		return nil, errs
	}
	typ := v.Resource()
	return &Entity{Type: typ, Table: t, Map: func(m *Mapper, raw []byte, b *store.Batch, seq int64) error {
		return mapView(m, v, typ, cols, len(t.Columns), raw, b, seq)
	}}, nil
}

// mapView decodes one resource, runs the view and appends its rows once
// every value converted; a value that does not convert quarantines the
// record with the column's name, never the value.
func mapView(m *Mapper, v *view.View, typ string, cols []viewColumn, width int, raw []byte, b *store.Batch, seq int64) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var res map[string]any
	if err := dec.Decode(&res); err != nil {
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
	var rows [][]any
	err := v.Rows(res, func(row []any) error {
		out := make([]any, width)
		for i, c := range cols {
			val, err := convert(m, c, row[i])
			if err != nil {
				return err
			}
			if val == nil && c.required {
				return bad("%s: missing", c.name)
			}
			out[c.table] = val
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
	for _, r := range rows {
		row := b.Row()
		for i, col := range b.Columns() {
			appendValue(row, col.Type, r[i])
		}
		row.End(seq)
	}
	return nil
}

// convert turns a view value into the column's Go value (nil = NULL),
// applying its de-identification.
func convert(m *Mapper, c viewColumn, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	s, isStr := v.(string)
	switch c.deid {
	case "patient":
		if !isStr || s == "" {
			return nil, bad("%s: not a Patient id", c.name)
		}
		return m.Vault.Surrogate(deid.NSPatient, s)
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
			if n, err := x.Int64(); err == nil && (c.typ == store.Int64 || (n >= math.MinInt32 && n <= math.MaxInt32)) {
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
