package crm

import (
	"compress/gzip"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// Reader reads one CRM CSV file: a header row, then records matched to
// columns by header name.
type Reader struct {
	r     *csv.Reader
	cols  map[string]int
	width int
	c     io.Closer
}

// ErrShortRecord reports a record with a different field count than the header.
var ErrShortRecord = errors.New("wrong number of fields")

// Open opens a CSV file (gunzipping ".gz") and reads its header. It fails if
// any of the required columns is missing.
func Open(path string, required []string) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	var r io.Reader = f
	closer := io.Closer(f)
	if strings.HasSuffix(path, ".gz") {
		gz, err := gzip.NewReader(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		r, closer = gz, closers{gz, f}
	}
	rd, err := NewReader(r, required)
	if err != nil {
		closer.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	rd.c = closer
	return rd, nil
}

// NewReader reads the header from r.
func NewReader(r io.Reader, required []string) (*Reader, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		if err == io.EOF {
			return nil, errors.New("empty file: no header row")
		}
		return nil, fmt.Errorf("header: %w", err)
	}
	cols := make(map[string]int, len(head))
	for i, h := range head {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		cols[h] = i
	}
	var missing []string
	for _, c := range required {
		if _, ok := cols[c]; !ok {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("missing required column(s): %s", strings.Join(missing, ", "))
	}
	return &Reader{r: cr, cols: cols, width: len(head)}, nil
}

// Row is one CSV record, valid until the next call to Next.
type Row struct {
	fields []string
	cols   map[string]int
}

// Get returns the trimmed value of column name ("" when absent or empty).
func (r Row) Get(name string) string {
	i, ok := r.cols[name]
	if !ok || i >= len(r.fields) {
		return ""
	}
	return strings.TrimSpace(r.fields[i])
}

// Next returns the next record and the line it starts on. It returns io.EOF at
// the end, ErrShortRecord (with the line) for a record whose field count
// differs from the header's, and *csv.ParseError for broken quoting; after
// either of the latter, Next can be called again.
func (rd *Reader) Next() (Row, int64, error) {
	fields, err := rd.r.Read()
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return Row{}, int64(pe.StartLine), err
		}
		return Row{}, 0, err
	}
	line, _ := rd.r.FieldPos(0)
	if len(fields) != rd.width {
		return Row{}, int64(line), ErrShortRecord
	}
	return Row{fields: fields, cols: rd.cols}, int64(line), nil
}

// Close closes the file.
func (rd *Reader) Close() error {
	if rd.c == nil {
		return nil
	}
	return rd.c.Close()
}

type closers []io.Closer

func (c closers) Close() error {
	var first error
	for _, x := range c {
		if err := x.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
