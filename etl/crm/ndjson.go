package crm

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/carelens/carelens/etl/fhir"
)

// RecordReader reads the records of one export file.
type RecordReader interface {
	// Next returns the next record and the line it starts on; io.EOF at
	// the end. Any other error concerns that record only (it is
	// quarantined) unless it wraps ErrFile, and Next can be called again.
	Next() (Record, int64, error)
	Close() error
}

// ErrFile marks a read error that ends the file.
var ErrFile = errors.New("file unreadable")

// ErrNotObject is returned for an NDJSON line that is not a JSON object of
// scalar values.
var ErrNotObject = errors.New("not a JSON object")

// ndjsonReader reads an NDJSON export file: one JSON object per line, keys
// the contract's field names.
type ndjsonReader struct{ lr *fhir.LineReader }

// OpenNDJSON opens an NDJSON export file (gunzipping ".gz").
func OpenNDJSON(path string) (RecordReader, error) {
	lr, err := fhir.OpenNDJSON(path)
	if err != nil {
		return nil, err
	}
	return &ndjsonReader{lr: lr}, nil
}

func (r *ndjsonReader) Next() (Record, int64, error) {
	line, n, err := r.lr.Next()
	switch {
	case err == io.EOF:
		return nil, 0, io.EOF
	case errors.Is(err, fhir.ErrLineTooLong):
		return nil, n, err
	case err != nil:
		return nil, n, fmt.Errorf("%w: %w", ErrFile, err)
	}
	f, ferr := FieldsFromJSON(line)
	if ferr != nil {
		return nil, n, ferr
	}
	return f, n, nil
}

func (r *ndjsonReader) Close() error { return r.lr.Close() }

// FieldsFromJSON turns one JSON object into Fields in the contract's text
// formats: strings as they are, numbers as their JSON text, booleans as
// true/false, null as absent. A nested object or array is an error naming
// the field, never its value.
func FieldsFromJSON(data []byte) (Fields, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil || obj == nil {
		return nil, ErrNotObject
	}
	f := make(Fields, len(obj))
	for k, v := range obj {
		switch x := v.(type) {
		case nil:
		case string:
			f[k] = x
		case json.Number:
			f[k] = x.String()
		case bool:
			if x {
				f[k] = "true"
			} else {
				f[k] = "false"
			}
		default:
			return nil, &FieldError{Field: k}
		}
	}
	return f, nil
}

// csvFile adapts a CSV Reader to RecordReader.
type csvFile struct{ *Reader }

func (c csvFile) Next() (Record, int64, error) {
	r, n, err := c.Reader.Next()
	if err != nil {
		var pe *csv.ParseError
		if err == io.EOF || errors.Is(err, ErrShortRecord) || errors.As(err, &pe) {
			return nil, n, err
		}
		return nil, n, fmt.Errorf("%w: %w", ErrFile, err)
	}
	return r, n, nil
}

// FileNames are the names an entity's export file may have, in the order
// they are looked for.
func FileNames(entity string) []string {
	return []string{entity + ".csv", entity + ".csv.gz", entity + ".ndjson", entity + ".ndjson.gz"}
}

// OpenFile opens an entity's export file, CSV or NDJSON by its name. A CSV
// file must have the entity's required columns.
func OpenFile(path string, ent *Entity) (RecordReader, error) {
	if strings.HasSuffix(path, ".ndjson") || strings.HasSuffix(path, ".ndjson.gz") {
		return OpenNDJSON(path)
	}
	rd, err := Open(path, ent.Required)
	if err != nil {
		return nil, err
	}
	return csvFile{rd}, nil
}

// RecordReason returns the quarantine reason of a per-record read error, and
// false for an error that ends the file.
func RecordReason(err error) (string, bool) {
	var pe *csv.ParseError
	var fe *FieldError
	var se *SourceError
	switch {
	case errors.As(err, &se):
		return se.Reason, true
	case errors.Is(err, ErrFile):
		return "", false
	case errors.Is(err, ErrShortRecord):
		return "wrong number of fields", true
	case errors.As(err, &pe):
		return "broken CSV quoting", true
	case errors.Is(err, ErrNotObject):
		return "record is not a JSON object", true
	case errors.As(err, &fe):
		return fe.Error(), true
	case errors.Is(err, fhir.ErrLineTooLong):
		return "line too long", true
	}
	return "", false
}
