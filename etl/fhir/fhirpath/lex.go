package fhirpath

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ParseError is a syntax or compile error in an expression. Pos is the
// 0-based byte offset of the offending token in Expr.
type ParseError struct {
	Expr string
	Pos  int
	Msg  string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("fhirpath: %q: offset %d: %s", e.Expr, e.Pos, e.Msg)
}

type tokKind uint8

const (
	tEOF     tokKind = iota
	tIdent           // identifier or keyword
	tDelim           // `delimited identifier`
	tString          // 'string'
	tNumber          // 12, 1.5
	tDate            // @2020-01-01, @T12:00 (text without @)
	tExt             // %name, %`name`, %'name' (text without %)
	tSpecial         // $this, $index, $total
	tPunct           // operators and punctuation
)

type token struct {
	kind tokKind
	text string // identifier/operator text, decoded string, number text
	pos  int
}

func (t token) String() string {
	switch t.kind {
	case tEOF:
		return "end of expression"
	case tString:
		return strconv.Quote(t.text)
	case tDate:
		return "@" + t.text
	case tExt:
		return "%" + t.text
	}
	return "'" + t.text + "'"
}

type lexer struct {
	src  string
	pos  int
	toks []token
}

func lex(src string) ([]token, error) {
	l := &lexer{src: src}
	for {
		t, err := l.next()
		if err != nil {
			return nil, err
		}
		l.toks = append(l.toks, t)
		if t.kind == tEOF {
			return l.toks, nil
		}
	}
}

func (l *lexer) errf(pos int, format string, args ...any) error {
	return &ParseError{Expr: l.src, Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func (l *lexer) skipSpace() error {
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f':
			l.pos++
		case strings.HasPrefix(l.src[l.pos:], "//"):
			i := strings.IndexByte(l.src[l.pos:], '\n')
			if i < 0 {
				l.pos = len(l.src)
			} else {
				l.pos += i + 1
			}
		case strings.HasPrefix(l.src[l.pos:], "/*"):
			i := strings.Index(l.src[l.pos+2:], "*/")
			if i < 0 {
				return l.errf(l.pos, "unterminated comment")
			}
			l.pos += i + 4
		default:
			return nil
		}
	}
	return nil
}

func (l *lexer) next() (token, error) {
	if err := l.skipSpace(); err != nil {
		return token{}, err
	}
	start := l.pos
	if l.pos >= len(l.src) {
		return token{kind: tEOF, pos: start}, nil
	}
	c := l.src[l.pos]
	switch {
	case isIdentStart(c):
		for l.pos < len(l.src) && (isIdentStart(l.src[l.pos]) || isDigit(l.src[l.pos])) {
			l.pos++
		}
		return token{kind: tIdent, text: l.src[start:l.pos], pos: start}, nil
	case isDigit(c):
		for l.pos < len(l.src) && isDigit(l.src[l.pos]) {
			l.pos++
		}
		if l.pos+1 < len(l.src) && l.src[l.pos] == '.' && isDigit(l.src[l.pos+1]) {
			l.pos++
			for l.pos < len(l.src) && isDigit(l.src[l.pos]) {
				l.pos++
			}
		}
		if l.pos < len(l.src) && l.src[l.pos] == 'L' {
			return token{}, l.errf(start, "long integer literals are not supported")
		}
		return token{kind: tNumber, text: l.src[start:l.pos], pos: start}, nil
	case c == '\'':
		s, err := l.quoted('\'')
		return token{kind: tString, text: s, pos: start}, err
	case c == '`':
		s, err := l.quoted('`')
		if err == nil && s == "" {
			err = l.errf(start, "empty identifier")
		}
		return token{kind: tDelim, text: s, pos: start}, err
	case c == '%':
		l.pos++
		if l.pos < len(l.src) {
			switch d := l.src[l.pos]; {
			case d == '`' || d == '\'':
				s, err := l.quoted(d)
				if err == nil && s == "" {
					err = l.errf(start, "empty variable name")
				}
				return token{kind: tExt, text: s, pos: start}, err
			case isIdentStart(d):
				b := l.pos
				for l.pos < len(l.src) && (isIdentStart(l.src[l.pos]) || isDigit(l.src[l.pos])) {
					l.pos++
				}
				return token{kind: tExt, text: l.src[b:l.pos], pos: start}, nil
			}
		}
		return token{}, l.errf(start, "expected a name after %%")
	case c == '$':
		l.pos++
		b := l.pos
		for l.pos < len(l.src) && (isIdentStart(l.src[l.pos]) || isDigit(l.src[l.pos])) {
			l.pos++
		}
		name := l.src[b:l.pos]
		switch name {
		case "this", "index", "total":
			return token{kind: tSpecial, text: name, pos: start}, nil
		}
		return token{}, l.errf(start, "unknown special variable $%s", name)
	case c == '@':
		l.pos++
		b := l.pos
		for l.pos < len(l.src) {
			d := l.src[l.pos]
			if isDigit(d) || d == '-' || d == ':' || d == 'T' || d == 'Z' || d == '+' ||
				(d == '.' && l.pos+1 < len(l.src) && isDigit(l.src[l.pos+1])) {
				l.pos++
				continue
			}
			break
		}
		text := l.src[b:l.pos]
		if text == "" {
			return token{}, l.errf(start, "expected a date or time after @")
		}
		return token{kind: tDate, text: text, pos: start}, nil
	}
	for _, op := range []string{"<=", ">=", "!=", "!~"} {
		if strings.HasPrefix(l.src[l.pos:], op) {
			l.pos += 2
			return token{kind: tPunct, text: op, pos: start}, nil
		}
	}
	if strings.IndexByte(".[](),+-*/&|=~<>{}", c) >= 0 {
		l.pos++
		return token{kind: tPunct, text: l.src[start:l.pos], pos: start}, nil
	}
	r, _ := utf8.DecodeRuneInString(l.src[l.pos:])
	return token{}, l.errf(start, "unexpected character %q", r)
}

// quoted reads a quoted string or delimited identifier with FHIRPath
// escapes, starting at the opening quote.
func (l *lexer) quoted(q byte) (string, error) {
	start := l.pos
	l.pos++
	var b strings.Builder
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch c {
		case q:
			l.pos++
			return b.String(), nil
		case '\\':
			if l.pos+1 >= len(l.src) {
				return "", l.errf(l.pos, "unterminated escape")
			}
			e := l.src[l.pos+1]
			l.pos += 2
			switch e {
			case '\'', '"', '`', '\\', '/':
				b.WriteByte(e)
			case 'f':
				b.WriteByte('\f')
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'u':
				if l.pos+4 > len(l.src) {
					return "", l.errf(l.pos-2, "bad \\u escape")
				}
				v, err := strconv.ParseUint(l.src[l.pos:l.pos+4], 16, 32)
				if err != nil {
					return "", l.errf(l.pos-2, "bad \\u escape")
				}
				b.WriteRune(rune(v))
				l.pos += 4
			default:
				return "", l.errf(l.pos-2, "unknown escape \\%c", e)
			}
		default:
			b.WriteByte(c)
			l.pos++
		}
	}
	return "", l.errf(start, "unterminated %c", q)
}
