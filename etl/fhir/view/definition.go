package view

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// ErrInvalid is wrapped by every error Parse and Compile return for a
// ViewDefinition that breaks the specification.
var ErrInvalid = errors.New("invalid ViewDefinition")

// Definition is a decoded, validated ViewDefinition.
type Definition struct {
	// Name is the view's name (optional, a valid SQL name when set).
	Name string
	// Resource is the FHIR resource type the view applies to.
	Resource string
	// Constants are the view's constants, referred to as %name in paths.
	Constants []Constant
	// Select is the top-level selection: its parts are cross-joined.
	Select []Select
	// Where holds the filters; every path must be true for a resource to
	// produce rows.
	Where []Where
}

// Constant is a ViewDefinition constant. Type is the FHIR type taken from
// its value[x] key (valueCode → "code"); Value is a string, bool or
// json.Number.
type Constant struct {
	Name  string
	Type  string
	Value any
}

// Select is a selection structure: columns, nested selects and a unionAll,
// optionally evaluated for each element of ForEach, ForEachOrNull or the
// recursive Repeat paths (at most one of the three is set).
type Select struct {
	Column        []Column
	Select        []Select
	ForEach       string
	ForEachOrNull string
	Repeat        []string
	UnionAll      []Select
}

// Column is an output column. In a Definition, Type is as declared (possibly
// empty); in (*View).Columns it is the declared type or, failing that, the
// type inferred from Path, and empty when neither is known.
type Column struct {
	Name        string
	Path        string
	Type        string
	Collection  bool
	Description string
	Tags        []Tag
}

// Tag is a column tag: implementation-specific metadata such as a database
// type hint ("ansi/type") or carelens' de-identification directive.
type Tag struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Tag returns the value of the first tag named name.
func (c Column) Tag(name string) (string, bool) {
	for _, t := range c.Tags {
		if t.Name == name {
			return t.Value, true
		}
	}
	return "", false
}

// Where is a resource filter.
type Where struct {
	Path        string
	Description string
}

// sqlName is the spec's sql-name invariant for view, column and constant
// names.
var sqlName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)

var resourceName = regexp.MustCompile(`^[A-Z][A-Za-z]*$`)

// reservedNames are FHIRPath environment variables a constant cannot
// shadow.
var reservedNames = map[string]bool{"resource": true, "rootResource": true, "context": true, "rowIndex": true}

// constantTypes are the allowed constant value[x] types.
var constantTypes = map[string]string{
	"Base64Binary": "base64Binary", "Boolean": "boolean", "Canonical": "canonical", "Code": "code",
	"Date": "date", "DateTime": "dateTime", "Decimal": "decimal", "Id": "id", "Instant": "instant",
	"Integer": "integer", "Integer64": "integer64", "Oid": "oid", "String": "string",
	"PositiveInt": "positiveInt", "Time": "time", "UnsignedInt": "unsignedInt", "Uri": "uri",
	"Url": "url", "Uuid": "uuid",
}

var (
	dateRE     = regexp.MustCompile(`^\d{4}(-\d{2}(-\d{2})?)?$`)
	dateTimeRE = regexp.MustCompile(`^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$`)
	instantRE  = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$`)
	timeRE     = regexp.MustCompile(`^\d{2}(:\d{2}(:\d{2}(\.\d+)?)?)?$`)
	integerRE  = regexp.MustCompile(`^-?\d+$`)
)

// problems collects validation errors with their location.
type problems struct{ errs []error }

func (p *problems) add(at, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if at != "" {
		msg = at + ": " + msg
	}
	p.errs = append(p.errs, fmt.Errorf("%w: %s", ErrInvalid, msg))
}

func (p *problems) err() error { return errors.Join(p.errs...) }

// Parse decodes a ViewDefinition from JSON and validates it: required
// elements, element types, unknown keys in select/column/where/constant,
// name syntax, at most one of forEach/forEachOrNull/repeat, constants with
// exactly one value[x], column names unique across the whole select tree, and
// unionAll branches with the same column names in the same order. All
// problems are reported at once, joined, each wrapping ErrInvalid.
// FHIRPath syntax is checked by Compile. Other ViewDefinition elements (url,
// status, meta, fhirVersion …) are accepted and ignored.
func Parse(b []byte) (*Definition, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var raw any
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("%w: decode: %v", ErrInvalid, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: trailing data after the ViewDefinition", ErrInvalid)
	}
	return FromJSON(raw)
}

// FromJSON validates a ViewDefinition already decoded with UseNumber into
// map[string]any, as Parse does.
func FromJSON(raw any) (*Definition, error) {
	var p problems
	obj, ok := raw.(map[string]any)
	if !ok {
		p.add("", "a ViewDefinition must be a JSON object")
		return nil, p.err()
	}
	d := &Definition{}
	if rt, ok := obj["resourceType"]; ok && rt != "ViewDefinition" {
		p.add("resourceType", "must be \"ViewDefinition\", got %v", rt)
	}
	if v, ok := obj["name"]; ok {
		s, isStr := v.(string)
		if !isStr || !sqlName.MatchString(s) {
			p.add("name", "%v is not a valid name (letters, digits and _, starting with a letter)", v)
		}
		d.Name = s
	}
	switch v := obj["resource"].(type) {
	case nil:
		p.add("resource", "required")
	case string:
		if !resourceName.MatchString(v) {
			p.add("resource", "%q is not a FHIR resource type", v)
		}
		d.Resource = v
	default:
		p.add("resource", "must be a string")
	}
	d.Constants = parseConstants(&p, obj["constant"])
	sels, ok := selectList(&p, "select", obj["select"])
	if ok && len(sels) == 0 {
		p.add("select", "at least one select is required")
	}
	if obj["select"] == nil {
		p.add("select", "required")
	}
	for i, s := range sels {
		d.Select = append(d.Select, parseSelect(&p, fmt.Sprintf("select[%d]", i), s))
	}
	d.Where = parseWhere(&p, obj["where"])
	if len(p.errs) == 0 {
		validateColumns(&p, d)
	}
	if err := p.err(); err != nil {
		return nil, err
	}
	return d, nil
}

// selectList accepts an array of selects (or, leniently, a single object).
func selectList(p *problems, at string, v any) ([]map[string]any, bool) {
	var items []any
	switch x := v.(type) {
	case nil:
		return nil, false
	case []any:
		items = x
	case map[string]any:
		items = []any{x}
	default:
		p.add(at, "must be an array of objects")
		return nil, false
	}
	out := make([]map[string]any, 0, len(items))
	for i, it := range items {
		m, ok := it.(map[string]any)
		if !ok {
			p.add(fmt.Sprintf("%s[%d]", at, i), "must be an object")
			continue
		}
		out = append(out, m)
	}
	return out, true
}

// common keys every FHIR element may carry.
func commonKey(k string) bool {
	return k == "id" || k == "extension" || k == "modifierExtension" || strings.HasPrefix(k, "_")
}

func checkKeys(p *problems, at string, m map[string]any, allowed ...string) {
	var unknown []string
	for k := range m {
		if !commonKey(k) && !slices.Contains(allowed, k) {
			unknown = append(unknown, k)
		}
	}
	slices.Sort(unknown)
	for _, k := range unknown {
		p.add(at, "unknown element %q", k)
	}
}

func optString(p *problems, at string, m map[string]any, key string) (string, bool) {
	v, ok := m[key]
	if !ok {
		return "", false
	}
	s, isStr := v.(string)
	if !isStr {
		p.add(at+"."+key, "must be a string")
		return "", false
	}
	return s, true
}

func parseSelect(p *problems, at string, m map[string]any) Select {
	checkKeys(p, at, m, "column", "select", "forEach", "forEachOrNull", "repeat", "unionAll", "description")
	var s Select
	iter := 0
	if v, ok := optString(p, at, m, "forEach"); ok {
		if strings.TrimSpace(v) == "" {
			p.add(at+".forEach", "must not be empty")
		}
		s.ForEach, iter = v, iter+1
	} else if _, present := m["forEach"]; present {
		iter++
	}
	if v, ok := optString(p, at, m, "forEachOrNull"); ok {
		if strings.TrimSpace(v) == "" {
			p.add(at+".forEachOrNull", "must not be empty")
		}
		s.ForEachOrNull, iter = v, iter+1
	} else if _, present := m["forEachOrNull"]; present {
		iter++
	}
	if v, present := m["repeat"]; present {
		iter++
		arr, ok := v.([]any)
		if !ok || len(arr) == 0 {
			p.add(at+".repeat", "must be a non-empty array of paths")
		}
		for i, e := range arr {
			s2, ok := e.(string)
			if !ok || strings.TrimSpace(s2) == "" {
				p.add(fmt.Sprintf("%s.repeat[%d]", at, i), "must be a non-empty string")
				continue
			}
			s.Repeat = append(s.Repeat, s2)
		}
	}
	if iter > 1 {
		p.add(at, "at most one of forEach, forEachOrNull and repeat may be set")
	}
	if v, present := m["column"]; present {
		arr, ok := v.([]any)
		if !ok {
			p.add(at+".column", "must be an array")
		}
		for i, e := range arr {
			cat := fmt.Sprintf("%s.column[%d]", at, i)
			cm, ok := e.(map[string]any)
			if !ok {
				p.add(cat, "must be an object")
				continue
			}
			s.Column = append(s.Column, parseColumn(p, cat, cm))
		}
	}
	if subs, ok := selectList(p, at+".select", m["select"]); ok {
		for i, sub := range subs {
			s.Select = append(s.Select, parseSelect(p, fmt.Sprintf("%s.select[%d]", at, i), sub))
		}
	}
	if subs, ok := selectList(p, at+".unionAll", m["unionAll"]); ok {
		if len(subs) == 0 {
			p.add(at+".unionAll", "must not be empty")
		}
		for i, sub := range subs {
			s.UnionAll = append(s.UnionAll, parseSelect(p, fmt.Sprintf("%s.unionAll[%d]", at, i), sub))
		}
	}
	return s
}

func parseColumn(p *problems, at string, m map[string]any) Column {
	checkKeys(p, at, m, "name", "path", "type", "collection", "description", "tag", "tags")
	var c Column
	name, ok := optString(p, at, m, "name")
	switch {
	case !ok && m["name"] == nil:
		p.add(at+".name", "required")
	case ok && !sqlName.MatchString(name):
		p.add(at+".name", "%q is not a valid column name (letters, digits and _, starting with a letter)", name)
	}
	c.Name = name
	path, ok := optString(p, at, m, "path")
	if !ok && m["path"] == nil {
		p.add(at+".path", "required")
	} else if ok && strings.TrimSpace(path) == "" {
		p.add(at+".path", "must not be empty")
	}
	c.Path = path
	c.Type, _ = optString(p, at, m, "type")
	c.Description, _ = optString(p, at, m, "description")
	if v, present := m["collection"]; present {
		b, ok := v.(bool)
		if !ok {
			p.add(at+".collection", "must be a boolean")
		}
		c.Collection = b
	}
	for _, key := range []string{"tag", "tags"} {
		v, present := m[key]
		if !present {
			continue
		}
		arr, ok := v.([]any)
		if !ok {
			p.add(at+"."+key, "must be an array")
			continue
		}
		for i, e := range arr {
			tat := fmt.Sprintf("%s.%s[%d]", at, key, i)
			tm, ok := e.(map[string]any)
			if !ok {
				p.add(tat, "must be an object")
				continue
			}
			checkKeys(p, tat, tm, "name", "value")
			n, okN := tm["name"].(string)
			val, okV := tm["value"].(string)
			if !okN || n == "" {
				p.add(tat+".name", "required string")
			}
			if !okV {
				p.add(tat+".value", "required string")
			}
			c.Tags = append(c.Tags, Tag{Name: n, Value: val})
		}
	}
	return c
}

func parseConstants(p *problems, v any) []Constant {
	if v == nil {
		return nil
	}
	arr, ok := v.([]any)
	if !ok {
		p.add("constant", "must be an array")
		return nil
	}
	var out []Constant
	seen := map[string]bool{}
	for i, e := range arr {
		at := fmt.Sprintf("constant[%d]", i)
		m, ok := e.(map[string]any)
		if !ok {
			p.add(at, "must be an object")
			continue
		}
		var c Constant
		name, ok := m["name"].(string)
		switch {
		case !ok:
			p.add(at+".name", "required string")
		case !sqlName.MatchString(name):
			p.add(at+".name", "%q is not a valid constant name", name)
		case seen[name]:
			p.add(at+".name", "constant %q defined twice", name)
		case reservedNames[name]:
			p.add(at+".name", "%q is reserved for the FHIRPath variable %%%s", name, name)
		}
		seen[name] = true
		c.Name = name
		values := 0
		var keys []string
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if k == "name" || commonKey(k) {
				continue
			}
			suffix, isValue := strings.CutPrefix(k, "value")
			typ, known := constantTypes[suffix]
			if !isValue || !known {
				p.add(at, "unknown element %q", k)
				continue
			}
			values++
			c.Type = typ
			c.Value = m[k]
			if msg := checkConstantValue(typ, m[k]); msg != "" {
				p.add(at+"."+k, "%s", msg)
			}
		}
		if values != 1 {
			p.add(at, "must have exactly one value[x], has %d", values)
		}
		out = append(out, c)
	}
	return out
}

func checkConstantValue(typ string, v any) string {
	switch typ {
	case "boolean":
		if _, ok := v.(bool); !ok {
			return "must be a boolean"
		}
		return ""
	case "decimal", "integer", "integer64", "positiveInt", "unsignedInt":
		n, ok := v.(json.Number)
		if !ok {
			if typ == "integer64" {
				if s, isStr := v.(string); isStr && integerRE.MatchString(s) {
					return ""
				}
			}
			return "must be a number"
		}
		if typ != "decimal" && !integerRE.MatchString(string(n)) {
			return "must be an integer"
		}
		if typ == "positiveInt" && (strings.HasPrefix(string(n), "-") || strings.Trim(string(n), "0") == "") {
			return "must be positive"
		}
		if typ == "unsignedInt" && strings.HasPrefix(string(n), "-") {
			return "must not be negative"
		}
		return ""
	}
	s, ok := v.(string)
	if !ok {
		return "must be a string"
	}
	var re *regexp.Regexp
	switch typ {
	case "date":
		re = dateRE
	case "dateTime":
		re = dateTimeRE
	case "instant":
		re = instantRE
	case "time":
		re = timeRE
	}
	if re != nil && !re.MatchString(s) {
		return fmt.Sprintf("%q is not a valid %s", s, typ)
	}
	return ""
}

func parseWhere(p *problems, v any) []Where {
	if v == nil {
		return nil
	}
	arr, ok := v.([]any)
	if !ok {
		p.add("where", "must be an array")
		return nil
	}
	var out []Where
	for i, e := range arr {
		at := fmt.Sprintf("where[%d]", i)
		m, ok := e.(map[string]any)
		if !ok {
			p.add(at, "must be an object")
			continue
		}
		checkKeys(p, at, m, "path", "description")
		path, ok := m["path"].(string)
		if !ok || strings.TrimSpace(path) == "" {
			p.add(at+".path", "required non-empty string")
		}
		desc, _ := m["description"].(string)
		out = append(out, Where{Path: path, Description: desc})
	}
	return out
}

// validateColumns applies the processing model's ValidateColumns: names are
// unique across the select tree and unionAll branches agree on names and
// order (and on declared types where both declare one).
func validateColumns(p *problems, d *Definition) {
	var cols []Column
	for i, s := range d.Select {
		cols = append(cols, selectColumns(p, fmt.Sprintf("select[%d]", i), s, cols)...)
	}
}

// selectColumns returns the columns s adds after existing ones, reporting
// duplicates and inconsistent unions.
func selectColumns(p *problems, at string, s Select, existing []Column) []Column {
	ret := slices.Clone(existing)
	var added []Column
	add := func(c Column, where string) {
		if slices.ContainsFunc(ret, func(o Column) bool { return o.Name == c.Name }) {
			p.add(where, "column %q is already defined", c.Name)
			return
		}
		ret = append(ret, c)
		added = append(added, c)
	}
	for i, c := range s.Column {
		add(c, fmt.Sprintf("%s.column[%d]", at, i))
	}
	for i, sub := range s.Select {
		for _, c := range selectColumns(p, fmt.Sprintf("%s.select[%d]", at, i), sub, ret) {
			add(c, fmt.Sprintf("%s.select[%d]", at, i))
		}
	}
	if len(s.UnionAll) > 0 {
		u0 := selectColumns(p, at+".unionAll[0]", s.UnionAll[0], ret)
		for i := 1; i < len(s.UnionAll); i++ {
			u := selectColumns(p, fmt.Sprintf("%s.unionAll[%d]", at, i), s.UnionAll[i], ret)
			if !sameColumns(u0, u) {
				p.add(fmt.Sprintf("%s.unionAll[%d]", at, i), "columns %v differ from unionAll[0]'s %v", columnNames(u), columnNames(u0))
			}
		}
		for _, c := range u0 {
			add(c, at+".unionAll")
		}
	}
	return added
}

func sameColumns(a, b []Column) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name {
			return false
		}
		if a[i].Type != "" && b[i].Type != "" && a[i].Type != b[i].Type {
			return false
		}
		if a[i].Collection != b[i].Collection {
			return false
		}
	}
	return true
}

func columnNames(cs []Column) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Name
	}
	return out
}
