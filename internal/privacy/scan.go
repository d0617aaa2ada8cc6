package privacy

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"runtime"
	"strings"
	"sync"

	"github.com/carelens/carelens/internal/store"
)

// ErrInvalidOptions is returned (wrapped) for ScanOptions that cannot be
// used: a bad MRN pattern, an incomplete allow rule, a negative length.
var ErrInvalidOptions = errors.New("invalid privacy scan options")

// ScanOptions say what Scan looks for and what is allowed where.
type ScanOptions struct {
	// SourceIDs yields the source-system ids to look for (the vault's keys:
	// Patient ids, MRNs, CRM contact ids) with their namespace; a value that
	// equals or contains one is a finding of kind source_id:<namespace>.
	// Matching folds ASCII case, and an id must stand alone where it starts
	// or ends with a letter or digit ("C1234567" is not found inside
	// "XC12345678"), so digit runs inside hex keys do not count. An id of
	// the form system|value is also looked for by its value. Nil: none.
	SourceIDs func(yield func(ns, id string) bool)
	// MinIDLen: ids shorter than this many bytes are ignored and counted in
	// the report (0 = DefaultMinIDLen).
	MinIDLen int
	// MRNPatterns are extra regular expressions (RE2 syntax) for the
	// deployment's record-number formats; matches are kind mrn.
	MRNPatterns []string
	// Allow adds allow rules to DefaultAllow(ServerHosts...).
	Allow []AllowRule
	// NoDefaultAllow drops the built-in rules: only Allow applies.
	NoDefaultAllow bool
	// ServerHosts are the configured servers' hosts (or URLs), whose URLs
	// and addresses may appear in etl_runs.error and crm_sync.cursor.
	ServerHosts []string
	// Workers is the number of matching goroutines (0 = GOMAXPROCS).
	Workers int
}

// column is one scanned column and what applies to it.
type column struct {
	schema           string
	table, name, typ string // table: "schema.table" outside main
	numeric          bool   // integers, decimals, floats: only ids and bare SSNs
	ssnName          bool   // the name says SSN: 9 bare digits count
	rules            []int  // indexes of the allow rules covering it
	ref              string // quoted schema.table for queries
}

// Scan reads every distinct non-NULL value of every column of every base
// table of db (all schemas of the database file: the warehouse, ETL
// bookkeeping, quarantine, value sets) as text and reports the identifiers
// found. Date, time and boolean columns are skipped (counted). It returns an
// error only when the options are invalid or a query fails; findings are in
// the report. It blocks until done; the values it reads never leave it but
// redacted.
func Scan(ctx context.Context, db *store.DB, opt ScanOptions) (*Report, error) {
	s, err := newScanner(opt)
	if err != nil {
		return nil, err
	}
	cols, skipped, err := listColumns(ctx, db)
	if err != nil {
		return nil, err
	}
	rep := &Report{Skipped: skipped, SourceIDs: s.idReport}
	tables := map[string]bool{}
	for _, c := range cols {
		tables[c.table] = true
		c.ssnName = ssnColumnRe.MatchString(c.name)
		for i := range s.rules {
			if s.rules[i].covers(c.table, c.name, c.typ) {
				c.rules = append(c.rules, i)
			}
		}
	}
	rep.Tables, rep.Columns = len(tables), len(cols)

	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	batches := make(chan *batch, 2*workers)
	free := make(chan *batch, 3*workers)
	accs := make([]map[accKey]*acc, workers)
	var wg sync.WaitGroup
	for w := range workers {
		accs[w] = map[accKey]*acc{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := &matchState{s: s, accs: accs[w]}
			for b := range batches {
				m.batch(b)
				select {
				case free <- b:
				default:
				}
			}
		}()
	}
	readErr := func() error {
		for i, c := range cols {
			if err := readColumn(ctx, db, i, c, batches, free, rep); err != nil {
				return err
			}
		}
		return nil
	}()
	close(batches)
	wg.Wait()
	if readErr != nil {
		return nil, readErr
	}
	rep.Findings = merge(accs, cols, s.rules)
	return rep, nil
}

// scanner is what Scan matches with, built once from the options.
type scanner struct {
	ids      *idSet
	idReport SourceIDReport
	mrn      []*regexp.Regexp
	rules    []AllowRule
}

func newScanner(opt ScanOptions) (*scanner, error) {
	if opt.MinIDLen < 0 {
		return nil, fmt.Errorf("%w: MinIDLen must not be negative", ErrInvalidOptions)
	}
	minLen := opt.MinIDLen
	if minLen == 0 {
		minLen = DefaultMinIDLen
	}
	s := &scanner{}
	for _, p := range opt.MRNPatterns {
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, fmt.Errorf("%w: MRN pattern %q: %v", ErrInvalidOptions, p, err)
		}
		if re.MatchString("") {
			return nil, fmt.Errorf("%w: MRN pattern %q matches the empty string", ErrInvalidOptions, p)
		}
		s.mrn = append(s.mrn, re)
	}
	if !opt.NoDefaultAllow {
		s.rules = DefaultAllow(opt.ServerHosts...)
	}
	for _, r := range opt.Allow {
		if err := r.validate(); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalidOptions, err)
		}
		s.rules = append(s.rules, r)
	}
	var st idStats
	s.ids, st = buildIDSet(opt.SourceIDs, minLen)
	s.idReport = SourceIDReport{Checked: st.Checked, TooShort: st.TooShort, MinLen: minLen, Namespaces: st.Namespaces}
	if s.idReport.Namespaces == nil {
		s.idReport.Namespaces = []string{}
	}
	return s, nil
}

// skipTypes are DuckDB types whose text form holds no identifier.
var skipTypes = []string{"DATE", "TIME", "TIMESTAMP", "INTERVAL", "BOOLEAN"}

var numericTypes = []string{"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
	"UINTEGER", "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "DECIMAL", "REAL"}

func hasTypePrefix(typ string, list []string) bool {
	for _, p := range list {
		if typ == p || strings.HasPrefix(typ, p+" ") || strings.HasPrefix(typ, p+"(") || strings.HasPrefix(typ, p+"_") {
			return true
		}
	}
	return false
}

// listColumns returns the columns of every base table of the database
// (catalog tables aside), in schema, table and column order, and the number
// of columns skipped for their type.
func listColumns(ctx context.Context, db *store.DB) ([]*column, int, error) {
	rows, err := db.QueryContext(ctx, `SELECT c.table_schema, c.table_name, c.column_name, c.data_type
		FROM information_schema.columns c
		JOIN information_schema.tables t
		  ON t.table_catalog = c.table_catalog AND t.table_schema = c.table_schema AND t.table_name = c.table_name
		WHERE t.table_type = 'BASE TABLE' AND c.table_catalog = current_database()
		  AND c.table_schema NOT IN ('information_schema', 'pg_catalog')
		ORDER BY c.table_schema, c.table_name, c.ordinal_position`)
	if err != nil {
		return nil, 0, fmt.Errorf("list columns: %w", err)
	}
	defer rows.Close()
	var cols []*column
	skipped := 0
	for rows.Next() {
		var table string
		c := &column{}
		if err := rows.Scan(&c.schema, &table, &c.name, &c.typ); err != nil {
			return nil, 0, fmt.Errorf("list columns: %w", err)
		}
		c.table = table
		if c.schema != "main" {
			c.table = c.schema + "." + table
		}
		c.ref = quoteIdent(c.schema) + "." + quoteIdent(table)
		if hasTypePrefix(c.typ, skipTypes) {
			skipped++
			continue
		}
		c.numeric = hasTypePrefix(c.typ, numericTypes)
		cols = append(cols, c)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("list columns: %w", err)
	}
	return cols, skipped, nil
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// batch is a run of distinct values of one column, packed in one buffer.
type batch struct {
	col  int
	c    *column
	data []byte
	ends []int
	rows []int64
}

const batchValues = 2048

// readColumn streams the distinct values of column c with their row counts
// into batches.
func readColumn(ctx context.Context, db *store.DB, i int, c *column, out chan<- *batch, free chan *batch, rep *Report) error {
	q := fmt.Sprintf(`SELECT CAST(%[1]s AS VARCHAR), count(*) FROM %[2]s WHERE %[1]s IS NOT NULL GROUP BY 1`,
		quoteIdent(c.name), c.ref)
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return fmt.Errorf("scan %s.%s: %w", c.table, c.name, err)
	}
	defer rows.Close()
	newBatch := func() *batch {
		var b *batch
		select {
		case b = <-free:
			b.data, b.ends, b.rows = b.data[:0], b.ends[:0], b.rows[:0]
		default:
			b = &batch{}
		}
		b.col, b.c = i, c
		return b
	}
	b := newBatch()
	var v sql.RawBytes
	var n int64
	for rows.Next() {
		if err := rows.Scan(&v, &n); err != nil {
			return fmt.Errorf("scan %s.%s: %w", c.table, c.name, err)
		}
		b.data = append(b.data, v...)
		b.ends = append(b.ends, len(b.data))
		b.rows = append(b.rows, n)
		rep.Values++
		rep.Rows += n
		if len(b.ends) == batchValues {
			select {
			case out <- b:
			case <-ctx.Done():
				return ctx.Err()
			}
			b = newBatch()
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("scan %s.%s: %w", c.table, c.name, err)
	}
	if len(b.ends) > 0 {
		select {
		case out <- b:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// accKey identifies a finding while scanning.
type accKey struct {
	col     int
	kind    Kind
	allowed bool
}

type acc struct {
	values, rows int64
	example      []byte // the smallest match
	rule         int    // the first allow rule (lowest index) that allowed a match
}

// hit is one (kind, allowed) of one value, with its smallest match.
type hit struct {
	kind    Kind
	allowed bool
	rule    int
	ex      []byte
}

// matchState is one worker's matching: its findings and scratch.
type matchState struct {
	s    *scanner
	accs map[accKey]*acc
	hits []hit
}

func (m *matchState) batch(b *batch) {
	start := 0
	for k, end := range b.ends {
		m.value(b.col, b.c, b.data[start:end], b.rows[k])
		start = end
	}
}

// value matches one distinct value and adds its hits to the findings.
func (m *matchState) value(ci int, c *column, v []byte, rows int64) {
	m.hits = m.hits[:0]
	s := m.s
	if c.ssnName && bareSSN(v) {
		m.add(c, KindSSN, v)
	}
	if !s.ids.empty() {
		s.ids.find(v, func(p int32, start, end int) {
			for _, ns := range s.ids.pats[p].ns {
				m.add(c, SourceIDKind(s.ids.ns[ns]), v[start:end])
			}
		})
	}
	if !c.numeric {
		p := profileOf(v)
		for i := range patternDetectors {
			d := &patternDetectors[i]
			if d.want(&p) {
				d.find(v, func(match []byte) { m.add(c, d.kind, match) })
			}
		}
		for _, re := range s.mrn {
			for _, loc := range re.FindAllIndex(v, -1) {
				if loc[1] > loc[0] {
					m.add(c, KindMRN, v[loc[0]:loc[1]])
				}
			}
		}
	}
	for _, h := range m.hits {
		key := accKey{ci, h.kind, h.allowed}
		a := m.accs[key]
		if a == nil {
			a = &acc{rule: h.rule}
			m.accs[key] = a
		}
		a.values++
		a.rows += rows
		if a.example == nil || bytes.Compare(h.ex, a.example) < 0 {
			a.example = append(a.example[:0], h.ex...)
		}
		a.rule = min(a.rule, h.rule)
	}
}

// add records a match of kind k in a value of column c: allowed when a rule
// covering c allows it.
func (m *matchState) add(c *column, k Kind, match []byte) {
	rule := -1
	for _, i := range c.rules {
		if m.s.rules[i].allows(k, match) {
			rule = i
			break
		}
	}
	allowed := rule >= 0
	for i := range m.hits {
		h := &m.hits[i]
		if h.kind == k && h.allowed == allowed {
			if bytes.Compare(match, h.ex) < 0 {
				h.ex = match
			}
			if rule >= 0 && rule < h.rule {
				h.rule = rule
			}
			return
		}
	}
	m.hits = append(m.hits, hit{kind: k, allowed: allowed, rule: rule, ex: match})
}

// merge sums the workers' findings into the report's, ordered, with their
// examples redacted.
func merge(accs []map[accKey]*acc, cols []*column, rules []AllowRule) []Finding {
	total := map[accKey]*acc{}
	for _, part := range accs {
		for k, a := range part {
			t := total[k]
			if t == nil {
				total[k] = a
				continue
			}
			t.values += a.values
			t.rows += a.rows
			if bytes.Compare(a.example, t.example) < 0 {
				t.example = a.example
			}
			t.rule = min(t.rule, a.rule)
		}
	}
	out := make([]Finding, 0, len(total))
	for k, a := range total {
		c := cols[k.col]
		f := Finding{Table: c.table, Column: c.name, Kind: k.kind, Count: a.rows, Values: a.values,
			Example: redact(string(a.example)), Allowed: k.allowed}
		if k.allowed && a.rule >= 0 {
			f.Reason = rules[a.rule].Reason
		}
		out = append(out, f)
	}
	sortFindings(out)
	return out
}
