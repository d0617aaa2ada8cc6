package rest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/carelens/carelens/etl/crm/contract"
)

// maxPageBytes bounds a page body; a larger page is a contract breach (lower
// PageSize), not something retrying fixes.
const maxPageBytes = 256 << 20

// body is a decoded page answer.
type body struct {
	data []json.RawMessage
	next string
}

// jsonError is a body that is not complete, valid JSON: likely cut off in
// transit, so it is retried. Its message gives the byte offset, never the
// offending text.
type jsonError struct{ msg string }

func (e *jsonError) Error() string { return e.msg }

// errTooLarge is returned by limitedReader past maxPageBytes.
var errTooLarge = errors.New("too large")

// decodeBody decodes a page answer. Errors are a *jsonError for a body that
// is not complete, valid JSON, else they wrap ErrContract.
func decodeBody(r io.Reader, dataField, nextField string) (*body, error) {
	dec := json.NewDecoder(&limitedReader{r: r, n: maxPageBytes})
	var env map[string]json.RawMessage
	err := dec.Decode(&env)
	if err == nil {
		// Anything after the object means the body is not what was sent.
		if _, err = dec.Token(); err == io.EOF {
			err = nil
		} else if err == nil {
			err = &jsonError{msg: "invalid JSON body: data after the top-level value"}
		}
	}
	var ute *json.UnmarshalTypeError
	switch {
	case errors.Is(err, errTooLarge):
		return nil, fmt.Errorf("%w: page body larger than %d MiB; lower PageSize", ErrContract, maxPageBytes>>20)
	case errors.As(err, &ute):
		return nil, fmt.Errorf("%w: response is a JSON %s, not an object", ErrContract, ute.Value)
	case err != nil:
		return nil, jsonProblemErr(err)
	case env == nil:
		return nil, fmt.Errorf("%w: response is JSON null, not an object", ErrContract)
	}
	b := &body{}
	raw, ok := env[dataField]
	if !ok {
		return nil, fmt.Errorf("%w: response has no %q field", ErrContract, dataField)
	}
	if len(raw) == 0 || raw[0] != '[' {
		return nil, fmt.Errorf("%w: response field %q is a JSON %s, not an array", ErrContract, dataField, kind(raw))
	}
	if err := json.Unmarshal(raw, &b.data); err != nil {
		return nil, jsonProblemErr(err)
	}
	if raw, ok := env[nextField]; ok && string(raw) != "null" {
		if len(raw) == 0 || raw[0] != '"' {
			return nil, fmt.Errorf("%w: response field %q is a JSON %s, not a string or null", ErrContract, nextField, kind(raw))
		}
		if err := json.Unmarshal(raw, &b.next); err != nil {
			return nil, jsonProblemErr(err)
		}
	}
	return b, nil
}

// jsonProblemErr wraps jsonProblem in a *jsonError.
func jsonProblemErr(err error) error { return &jsonError{msg: jsonProblem(err)} }

// jsonProblem describes a JSON decoding error without quoting the input
// (a syntax error message quotes the offending character).
func jsonProblem(err error) string {
	var se *json.SyntaxError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "truncated JSON body"
	case errors.As(err, &se):
		return fmt.Sprintf("invalid JSON body at byte %d", se.Offset)
	default:
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) {
			return "unexpected JSON " + ute.Value
		}
		// A read error: the connection failed mid-body.
		return "body read failed: " + netCause(err).Error()
	}
}

// kind names the JSON type of a raw value.
func kind(raw json.RawMessage) string {
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	default:
		return "number"
	}
}

// limitedReader reads at most n bytes from r, then fails with errTooLarge.
type limitedReader struct {
	r io.Reader
	n int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, errTooLarge
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}

// item converts one element of the data array.
func (e *entity) item(raw json.RawMessage) Item {
	if len(raw) == 0 || raw[0] != '{' {
		return Item{Err: "record is not a JSON object"}
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		// Cannot happen: raw was checked as part of the page.
		return Item{Err: "record is not a valid JSON object"}
	}
	f := make(contract.Fields, len(obj))
	var nested []string
	for k, v := range obj {
		name, ok := e.field(k)
		v = bytes.TrimSpace(v)
		if !ok || len(v) == 0 {
			continue
		}
		switch v[0] {
		case '"':
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return Item{Err: fmt.Sprintf("field %s: invalid string", name)}
			}
			f[name] = s
		case 't':
			f[name] = "true"
		case 'f':
			f[name] = "false"
		case 'n':
			f[name] = ""
		case '{', '[':
			nested = append(nested, name)
		default:
			// A number: its JSON text exactly, no float rounding.
			f[name] = string(v)
		}
	}
	if len(nested) > 0 {
		sort.Strings(nested)
		msgs := make([]string, len(nested))
		for i, name := range nested {
			// contract.FieldError words it as the file readers do and replaces a
			// name that is not a plain identifier (API keys are arbitrary).
			msgs[i] = (&contract.FieldError{Field: name}).Error()
		}
		return Item{Err: strings.Join(msgs, "; ")}
	}
	return Item{Fields: f}
}
