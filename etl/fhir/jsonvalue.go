package fhir

import (
	"encoding/json"
	"errors"
	"unicode/utf16"
	"unicode/utf8"
)

// errJSON is returned by jsonDecoder.decode for input that is not one JSON value.
var errJSON = errors.New("malformed JSON")

// maxJSONDepth bounds nesting, as encoding/json does (10 000).
const maxJSONDepth = 10000

// jsonDecoder parses JSON documents into the generic form the FHIRPath
// evaluator reads: map[string]any, []any, string, json.Number, bool, nil.
// It gives what encoding/json gives with UseNumber (invalid UTF-8 becomes
// U+FFFD, a repeated key keeps the last value; FuzzJSONDecoder checks this)
// several times faster, because it knows the target types and reuses the
// object keys it has seen: keys repeat across resources. Not safe for
// concurrent use.
type jsonDecoder struct {
	keys map[string]string
}

func newJSONDecoder() *jsonDecoder { return &jsonDecoder{keys: make(map[string]string, 256)} }

func (d *jsonDecoder) decode(data []byte) (any, error) {
	p := jsonParser{data: data, keys: d.keys}
	p.ws()
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.ws()
	if p.i != len(p.data) {
		return nil, errJSON
	}
	if len(d.keys) > 1<<16 {
		clear(d.keys) // a stream of odd keys must not grow it forever
	}
	return v, nil
}

type jsonParser struct {
	data []byte
	i    int
	keys map[string]string
	buf  []byte
}

func (p *jsonParser) ws() {
	for p.i < len(p.data) {
		switch p.data[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonParser) value(depth int) (any, error) {
	if p.i >= len(p.data) {
		return nil, errJSON
	}
	if depth > maxJSONDepth {
		return nil, errJSON
	}
	switch c := p.data[p.i]; {
	case c == '{':
		return p.object(depth)
	case c == '[':
		return p.array(depth)
	case c == '"':
		s, err := p.str(false)
		return s, err
	case c == 't':
		return true, p.lit("true")
	case c == 'f':
		return false, p.lit("false")
	case c == 'n':
		return nil, p.lit("null")
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	}
	return nil, errJSON
}

func (p *jsonParser) lit(s string) error {
	if len(p.data)-p.i < len(s) || string(p.data[p.i:p.i+len(s)]) != s {
		return errJSON
	}
	p.i += len(s)
	return nil
}

func (p *jsonParser) object(depth int) (any, error) {
	p.i++ // {
	m := make(map[string]any, 8)
	p.ws()
	if p.i < len(p.data) && p.data[p.i] == '}' {
		p.i++
		return m, nil
	}
	for {
		p.ws()
		if p.i >= len(p.data) || p.data[p.i] != '"' {
			return nil, errJSON
		}
		k, err := p.str(true)
		if err != nil {
			return nil, err
		}
		p.ws()
		if p.i >= len(p.data) || p.data[p.i] != ':' {
			return nil, errJSON
		}
		p.i++
		p.ws()
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		m[k] = v
		p.ws()
		if p.i >= len(p.data) {
			return nil, errJSON
		}
		switch p.data[p.i] {
		case ',':
			p.i++
		case '}':
			p.i++
			return m, nil
		default:
			return nil, errJSON
		}
	}
}

func (p *jsonParser) array(depth int) (any, error) {
	p.i++ // [
	a := make([]any, 0, 4)
	p.ws()
	if p.i < len(p.data) && p.data[p.i] == ']' {
		p.i++
		return a, nil
	}
	for {
		p.ws()
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		a = append(a, v)
		p.ws()
		if p.i >= len(p.data) {
			return nil, errJSON
		}
		switch p.data[p.i] {
		case ',':
			p.i++
		case ']':
			p.i++
			return a, nil
		default:
			return nil, errJSON
		}
	}
}

// str parses a string at p.i (the opening quote); key strings are interned.
func (p *jsonParser) str(key bool) (string, error) {
	p.i++
	start := p.i
	// Fast path: no escapes, ASCII or valid UTF-8 checked at the end.
	for p.i < len(p.data) {
		c := p.data[p.i]
		if c == '"' {
			raw := p.data[start:p.i]
			p.i++
			if !utf8.Valid(raw) {
				return string([]rune(string(raw))), nil // invalid bytes become U+FFFD, as encoding/json does
			}
			if key {
				if s, ok := p.keys[string(raw)]; ok {
					return s, nil
				}
				s := string(raw)
				p.keys[s] = s
				return s, nil
			}
			return string(raw), nil
		}
		if c == '\\' {
			break
		}
		if c < 0x20 {
			return "", errJSON
		}
		p.i++
	}
	// Slow path: unescape into buf.
	p.buf = append(p.buf[:0], p.data[start:p.i]...)
	for p.i < len(p.data) {
		c := p.data[p.i]
		switch {
		case c == '"':
			p.i++
			b := p.buf
			if !utf8.Valid(b) {
				return string([]rune(string(b))), nil
			}
			return string(b), nil
		case c < 0x20:
			return "", errJSON
		case c != '\\':
			p.buf = append(p.buf, c)
			p.i++
			continue
		}
		p.i++
		if p.i >= len(p.data) {
			return "", errJSON
		}
		e := p.data[p.i]
		p.i++
		switch e {
		case '"', '\\', '/':
			p.buf = append(p.buf, e)
		case 'b':
			p.buf = append(p.buf, '\b')
		case 'f':
			p.buf = append(p.buf, '\f')
		case 'n':
			p.buf = append(p.buf, '\n')
		case 'r':
			p.buf = append(p.buf, '\r')
		case 't':
			p.buf = append(p.buf, '\t')
		case 'u':
			r, ok := p.hex4()
			if !ok {
				return "", errJSON
			}
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if p.i+1 < len(p.data) && p.data[p.i] == '\\' && p.data[p.i+1] == 'u' {
					save := p.i
					p.i += 2
					if x, ok := p.hex4(); ok {
						r2 = x
					} else {
						return "", errJSON
					}
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						p.buf = utf8.AppendRune(p.buf, dec)
						continue
					}
					p.i = save // not a pair: the second escape stands alone
				}
				r = utf8.RuneError
			}
			p.buf = utf8.AppendRune(p.buf, r)
		default:
			return "", errJSON
		}
	}
	return "", errJSON
}

func (p *jsonParser) hex4() (rune, bool) {
	if len(p.data)-p.i < 4 {
		return 0, false
	}
	var r rune
	for _, c := range p.data[p.i : p.i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	p.i += 4
	return r, true
}

// number parses a JSON number to its text, validated by the JSON grammar.
func (p *jsonParser) number() (any, error) {
	start := p.i
	if p.data[p.i] == '-' {
		p.i++
	}
	digits := func() int {
		n := 0
		for p.i < len(p.data) && p.data[p.i] >= '0' && p.data[p.i] <= '9' {
			p.i++
			n++
		}
		return n
	}
	if p.i < len(p.data) && p.data[p.i] == '0' {
		p.i++
	} else if digits() == 0 {
		return nil, errJSON
	}
	if p.i < len(p.data) && p.data[p.i] == '.' {
		p.i++
		if digits() == 0 {
			return nil, errJSON
		}
	}
	if p.i < len(p.data) && (p.data[p.i] == 'e' || p.data[p.i] == 'E') {
		p.i++
		if p.i < len(p.data) && (p.data[p.i] == '+' || p.data[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			return nil, errJSON
		}
	}
	return json.Number(p.data[start:p.i]), nil
}
