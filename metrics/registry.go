package metrics

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// DB hands out dedicated connections to the warehouse; *sql.DB and *store.DB
// satisfy it. The registry and the engine run each piece of work on one
// connection because the shared SQL macros are per-connection temp objects.
type DB interface {
	Conn(ctx context.Context) (*sql.Conn, error)
}

// Macro is a shared SQL function (macros/<name>.sql) that metric queries may
// call: one "CREATE OR REPLACE TEMP MACRO <name>(…) AS <expression>" per
// file. Macros are temporary, so they never alter the warehouse and work on a
// read-only database; they are created on each connection before a query.
type Macro struct {
	Name string
	File string
	SQL  string
}

// Registry is an immutable set of validated metric definitions and the
// macros they use. It is safe for concurrent use.
type Registry struct {
	defs   map[string]*Definition
	list   []*Definition
	macros []Macro // in an order in which each one's dependencies come first
}

// Get returns the definition named name.
func (r *Registry) Get(name string) (*Definition, bool) {
	d, ok := r.defs[name]
	return d, ok
}

// List returns the definitions sorted by name. The slice and the definitions
// are shared: callers must not modify them.
func (r *Registry) List() []*Definition { return r.list }

// Macros returns the shared macros in installation order.
func (r *Registry) Macros() []Macro { return r.macros }

// install creates the registry's macros on conn.
func (r *Registry) install(ctx context.Context, conn *sql.Conn) error {
	for _, m := range r.macros {
		if _, err := conn.ExecContext(ctx, m.SQL); err != nil {
			return fmt.Errorf("create macro %s: %w", m.Name, err)
		}
	}
	return nil
}

// MacroDir is the folder of a metrics file system that holds macros.
const MacroDir = "macros"

// Load reads every metric definition (*.sql at the root of fsys) and every
// shared macro (macros/*.sql), and validates them against the warehouse
// schema of db: the header must hold exactly the known keys with valid
// values, the name must equal the file name, the query must be one SELECT
// statement that prepares against the schema and returns the contract's
// columns (period_date DATE, patient_id, numerator, denominator, one column
// per declared dimension and nothing else). Every problem is reported, each
// as an *Error ("file:line: what"); when there is any, the registry is nil.
func Load(ctx context.Context, fsys fs.FS, db DB) (*Registry, []error) {
	var errs []error
	macroFiles, err := fs.Glob(fsys, MacroDir+"/*.sql")
	if err != nil {
		return nil, []error{fmt.Errorf("list macros: %w", err)}
	}
	metricFiles, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, []error{fmt.Errorf("list metrics: %w", err)}
	}
	if len(metricFiles) == 0 {
		errs = append(errs, fmt.Errorf("no metric definitions (*.sql) found"))
	}
	type parsedMacro struct {
		Macro
		exprLine int
		expr     string
	}
	var macros []parsedMacro
	for _, f := range macroFiles {
		text, err := fs.ReadFile(fsys, f)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f, err))
			continue
		}
		m, exprLine, expr, err := parseMacro(f, string(text))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		macros = append(macros, parsedMacro{m, exprLine, expr})
	}
	type parsedDef struct {
		def *Definition
		hdr header
		ok  bool // header valid: columns can be checked against it
	}
	var defs []parsedDef
	for _, f := range metricFiles {
		text, err := fs.ReadFile(fsys, f)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f, err))
			continue
		}
		d, h, perrs := parseDefinition(f, strings.TrimSuffix(path.Base(f), ".sql"), string(text))
		errs = append(errs, perrs...)
		defs = append(defs, parsedDef{d, h, len(perrs) == 0})
	}

	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, append(errs, fmt.Errorf("connect to validate metrics: %w", err))
	}
	defer conn.Close()

	// Macros may call one another: create them in rounds until no more
	// succeed, which orders them by dependency without a declared order.
	var installed []Macro
	pending := macros
	lastErr := map[string]error{}
	for len(pending) > 0 {
		var next []parsedMacro
		for _, m := range pending {
			query, line, skip := "SELECT "+m.expr, m.exprLine, len("SELECT ")
			if body, ok := tableMacroBody(m.expr); ok {
				// A table macro: its body is a query of its own.
				query, line, skip = body, m.exprLine+strings.Count(m.expr[:len(m.expr)-len(body)], "\n"), 0
			}
			if perr := checkParse(ctx, conn, m.File, line, query, skip); perr != nil {
				errs = append(errs, perr)
				continue
			}
			if _, err := conn.ExecContext(ctx, m.SQL); err != nil {
				lastErr[m.File] = dbError(m.File, m.exprLine, err)
				next = append(next, m)
				continue
			}
			installed = append(installed, m.Macro)
		}
		if len(next) == len(pending) {
			for _, m := range next {
				errs = append(errs, lastErr[m.File])
			}
			break
		}
		pending = next
	}

	// DuckDB binds some calls (inside subqueries) only when a macro is
	// used, so a macro can be created before one it calls: order them by
	// the calls their text makes, so installing in order never depends on
	// that.
	installed = orderMacros(installed)
	for _, p := range defs {
		errs = append(errs, checkQuery(ctx, conn, p.def, p.hdr, p.ok)...)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	r := &Registry{defs: map[string]*Definition{}, macros: installed}
	for _, p := range defs {
		p.def.Hash = definitionHash(p.def, installed)
		r.defs[p.def.Name] = p.def
		r.list = append(r.list, p.def)
	}
	sort.Slice(r.list, func(i, j int) bool { return r.list[i].Name < r.list[j].Name })
	return r, nil
}

var macroRE = regexp.MustCompile(`(?is)^CREATE\s+OR\s+REPLACE\s+TEMP(?:ORARY)?\s+MACRO\s+([a-z_][a-z0-9_]*)\s*\(([^)]*)\)\s+AS\s+`)

var tableMacroRE = regexp.MustCompile(`(?i)^TABLE\s+`)

// tableMacroBody returns the query of a table macro's definition ("AS TABLE
// <query>"), and false for a scalar macro's expression.
func tableMacroBody(expr string) (string, bool) {
	loc := tableMacroRE.FindStringIndex(expr)
	if loc == nil {
		return "", false
	}
	return expr[loc[1]:], true
}

// parseMacro checks a macro file's shape: leading comment lines, then one
// CREATE OR REPLACE TEMP MACRO named after the file, a scalar macro
// ("AS <expression>") or a table macro ("AS TABLE <query>"). It returns the macro,
// and the line and text of its expression.
func parseMacro(file, text string) (Macro, int, string, error) {
	stem := strings.TrimSuffix(path.Base(file), ".sql")
	lines := strings.Split(text, "\n")
	start, offset := 0, 0
	for start < len(lines) {
		l := strings.TrimSpace(lines[start])
		if l != "" && !strings.HasPrefix(l, "--") {
			break
		}
		offset += len(lines[start]) + 1
		start++
	}
	stmt := trimStatement(text[min(offset, len(text)):])
	loc := macroRE.FindStringSubmatchIndex(stmt)
	if loc == nil {
		return Macro{}, 0, "", &Error{File: file, Line: start + 1,
			Msg: fmt.Sprintf("want one CREATE OR REPLACE TEMP MACRO %s(…) AS <expression> (or AS TABLE <query>)", stem)}
	}
	if name := stmt[loc[2]:loc[3]]; name != stem {
		return Macro{}, 0, "", &Error{File: file, Line: start + 1,
			Msg: fmt.Sprintf("macro %q does not match the file name %q", name, stem)}
	}
	exprLine := start + 1 + strings.Count(stmt[:loc[1]], "\n")
	return Macro{Name: stem, File: file, SQL: trimStatement(text)}, exprLine, stmt[loc[1]:], nil
}

// checkParse parses query with DuckDB's own parser and requires exactly one
// SELECT statement. firstLine is the file line query's first character sits
// on, skip the number of leading characters of query not in the file.
func checkParse(ctx context.Context, conn *sql.Conn, file string, firstLine int, query string, skip int) error {
	var out string
	if err := conn.QueryRowContext(ctx, `SELECT json_serialize_sql(CAST(? AS VARCHAR))`, query).Scan(&out); err != nil {
		return &Error{File: file, Line: firstLine, Msg: fmt.Sprintf("parse: %v", err)}
	}
	var parsed struct {
		Error      bool              `json:"error"`
		Message    string            `json:"error_message"`
		Position   string            `json:"position"`
		Statements []json.RawMessage `json:"statements"`
	}
	if err := json.Unmarshal([]byte(out), &parsed); err != nil {
		return &Error{File: file, Line: firstLine, Msg: fmt.Sprintf("parse: %v", err)}
	}
	if parsed.Error {
		line := firstLine
		if pos, err := strconv.Atoi(parsed.Position); err == nil {
			runes := []rune(query)
			pos = max(0, min(pos, len(runes))-skip)
			line += strings.Count(string(runes[skip:skip+pos]), "\n")
		}
		msg := parsed.Message
		if msg == "Only SELECT statements can be serialized to json!" {
			msg = "the query must be a single SELECT statement"
		}
		return &Error{File: file, Line: line, Msg: msg}
	}
	if len(parsed.Statements) != 1 {
		return &Error{File: file, Line: firstLine, Msg: fmt.Sprintf("the query must be a single SELECT statement, found %d statements", len(parsed.Statements))}
	}
	return nil
}

// checkQuery parses and describes d's query and checks its columns against
// the contract. hdrOK is false when the header had errors; the query is then
// still checked, but not against the dimensions.
func checkQuery(ctx context.Context, conn *sql.Conn, d *Definition, h header, hdrOK bool) []error {
	if strings.TrimSpace(stripComments(d.SQL)) == "" {
		return nil // reported by parseDefinition
	}
	if err := checkParse(ctx, conn, d.File, 1, d.SQL, 0); err != nil {
		return []error{err}
	}
	cols, err := describe(ctx, conn, d.SQL)
	if err != nil {
		return []error{dbError(d.File, h.body, err)}
	}
	var errs []error
	fail := func(line int, format string, args ...any) {
		errs = append(errs, &Error{File: d.File, Line: line, Msg: fmt.Sprintf(format, args...)})
	}
	types := map[string]string{}
	for _, c := range cols {
		if _, dup := types[c.name]; dup {
			fail(h.body, "column %q appears twice", c.name)
		}
		types[c.name] = c.typ
	}
	switch typ, ok := types[colPeriodDate]; {
	case !ok:
		fail(h.body, "the query has no %s column", colPeriodDate)
	case typ != "DATE":
		fail(h.body, "column %s is %s, want DATE", colPeriodDate, typ)
	}
	if _, ok := types[colPatientID]; !ok {
		fail(h.body, "the query has no %s column", colPatientID)
	}
	for _, c := range []string{colNumerator, colDenominator} {
		switch typ, ok := types[c]; {
		case !ok:
			fail(h.body, "the query has no %s column", c)
		case !numericType(typ):
			fail(h.body, "column %s is %s, want a number", c, typ)
		}
	}
	if !hdrOK {
		return errs
	}
	for _, dim := range d.Dimensions {
		if _, ok := types[dim]; !ok {
			fail(h.lines["dimensions"], "dimension %q is not a column of the query", dim)
		}
	}
	d.HasValue, d.Populations = false, nil
	if typ, ok := types[colValue]; ok {
		if !numericType(typ) && typ != "NULL" {
			fail(h.body, "column %s is %s, want a number", colValue, typ)
		}
		d.HasValue = true
	}
	for _, c := range populationCols {
		if typ, ok := types[c]; ok {
			if !numericType(typ) {
				fail(h.body, "column %s is %s, want a number (0 or 1)", c, typ)
			}
			d.Populations = append(d.Populations, c)
		}
	}
	if len(d.Populations) == 1 {
		fail(h.body, "columns %s go together: return both or neither", strings.Join(populationCols, " and "))
	}
	for _, c := range cols {
		switch c.name {
		case colPeriodDate, colPatientID, colNumerator, colDenominator, colValue, colInitialPopulation, colDenominatorExclusion:
		default:
			if !d.HasDimension(c.name) {
				fail(h.body, "column %q is neither a declared dimension nor one of %s, %s, %s, %s",
					c.name, colPeriodDate, colPatientID, colNumerator, colDenominator)
			}
		}
	}
	return errs
}

type column struct{ name, typ string }

// describe returns the result columns of query without running it.
func describe(ctx context.Context, conn *sql.Conn, query string) ([]column, error) {
	// The query's first line follows "DESCRIBE (" directly, so line numbers
	// in DuckDB's messages are the file's.
	rows, err := conn.QueryContext(ctx, "DESCRIBE ("+query+"\n)")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	names, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var cols []column
	for rows.Next() {
		vals := make([]any, len(names))
		ptrs := make([]any, len(names))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		name, _ := vals[0].(string)
		typ, _ := vals[1].(string)
		cols = append(cols, column{name, typ})
	}
	return cols, rows.Err()
}

func numericType(t string) bool {
	switch t {
	case "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT",
		"UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE":
		return true
	}
	return strings.HasPrefix(t, "DECIMAL")
}

var duckLineRE = regexp.MustCompile(`(?m)^LINE (\d+):`)

// dbError turns a DuckDB error into a located *Error: the line DuckDB names
// (queries are sent with their file's line numbering), else fallback; the
// message is DuckDB's first line.
func dbError(file string, fallback int, err error) error {
	msg := err.Error()
	line := fallback
	if m := duckLineRE.FindStringSubmatch(msg); m != nil {
		if n, convErr := strconv.Atoi(m[1]); convErr == nil {
			line = n
		}
	}
	msg, _, _ = strings.Cut(msg, "\n")
	return &Error{File: file, Line: line, Msg: msg}
}

// orderMacros returns ms with every macro after the macros its text calls
// (a stable depth-first order; a cycle, which DuckDB would reject when
// used, keeps the given order).
func orderMacros(ms []Macro) []Macro {
	calls := make([][]int, len(ms))
	for i, m := range ms {
		for j, callee := range ms {
			if i != j && regexp.MustCompile(`\b`+regexp.QuoteMeta(callee.Name)+`\s*\(`).MatchString(m.SQL) {
				calls[i] = append(calls[i], j)
			}
		}
	}
	state := make([]int, len(ms)) // 0 new, 1 visiting, 2 done
	out := make([]Macro, 0, len(ms))
	var visit func(i int)
	visit = func(i int) {
		if state[i] != 0 {
			return
		}
		state[i] = 1
		for _, j := range calls[i] {
			visit(j)
		}
		state[i] = 2
		out = append(out, ms[i])
	}
	for i := range ms {
		visit(i)
	}
	return out
}
