package fhirpath

import (
	"encoding/json"
	"errors"
	"math/big"
	"strconv"
	"strings"
)

// Numbers are kept as their decimal text (json.Number). Comparison works on
// the text directly and never rounds; arithmetic uses math/big with an
// explicit scale so that results of +, - and * are exact.

var errNotNumber = errors.New("not a number")

// maxExponent bounds the exponent of numbers used in arithmetic.
const maxExponent = 4096

// isIntegerText reports whether s is a JSON number without fraction or
// exponent.
func isIntegerText(s string) bool {
	if s == "" {
		return false
	}
	i := 0
	if s[0] == '-' || s[0] == '+' {
		i = 1
	}
	if i == len(s) {
		return false
	}
	for ; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// decParts is a decimal text split for comparison: value = 0.d1d2d3… × 10^exp
// where the digits are read from mant starting at first, skipping '.'.
type decParts struct {
	neg   bool
	zero  bool
	mant  string
	first int
	exp   int
}

// splitDecimal parses decimal text (optional sign, digits, optional fraction,
// optional exponent) without allocating.
func splitDecimal(s string) (decParts, bool) {
	var p decParts
	if s == "" {
		return p, false
	}
	switch s[0] {
	case '-':
		p.neg = true
		s = s[1:]
	case '+':
		s = s[1:]
	}
	e := 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		x, err := strconv.Atoi(s[i+1:])
		if err != nil || x > 1<<20 || x < -(1<<20) {
			return p, false
		}
		e = x
		s = s[:i]
	}
	if s == "" {
		return p, false
	}
	intLen := len(s)
	seenDigit := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.':
			if intLen != len(s) {
				return p, false
			}
			intLen = i
		case c >= '0' && c <= '9':
			seenDigit = true
		default:
			return p, false
		}
	}
	if !seenDigit {
		return p, false
	}
	p.mant = s
	p.first = -1
	for i := 0; i < len(s); i++ {
		if s[i] != '0' && s[i] != '.' {
			p.first = i
			break
		}
	}
	if p.first < 0 {
		p.zero = true
		p.neg = false
		return p, true
	}
	if p.first < intLen {
		p.exp = intLen - p.first + e
	} else {
		p.exp = -(p.first - intLen - 1) + e
	}
	return p, true
}

// next returns the digit at or after byte offset i of the mantissa (skipping
// '.') and the offset after it, or '0' past the end.
func (p *decParts) next(i int) (byte, int) {
	for i < len(p.mant) && p.mant[i] == '.' {
		i++
	}
	if i >= len(p.mant) {
		return '0', i
	}
	return p.mant[i], i + 1
}

// exhausted reports whether only zeros remain from offset i.
func (p *decParts) exhausted(i int) bool {
	for ; i < len(p.mant); i++ {
		if p.mant[i] != '.' && p.mant[i] != '0' {
			return false
		}
	}
	return true
}

// compareDecimal compares two decimal texts exactly. ok is false when either
// is not a number.
func compareDecimal(a, b string) (int, bool) {
	if a == b {
		if _, ok := splitDecimal(a); !ok {
			return 0, false
		}
		return 0, true
	}
	pa, ok1 := splitDecimal(a)
	pb, ok2 := splitDecimal(b)
	if !ok1 || !ok2 {
		return 0, false
	}
	switch {
	case pa.zero && pb.zero:
		return 0, true
	case pa.zero:
		if pb.neg {
			return 1, true
		}
		return -1, true
	case pb.zero:
		if pa.neg {
			return -1, true
		}
		return 1, true
	case pa.neg != pb.neg:
		if pa.neg {
			return -1, true
		}
		return 1, true
	}
	sign := 1
	if pa.neg {
		sign = -1
	}
	if pa.exp != pb.exp {
		if pa.exp > pb.exp {
			return sign, true
		}
		return -sign, true
	}
	i, j := pa.first, pb.first
	for {
		ea, eb := pa.exhausted(i), pb.exhausted(j)
		if ea && eb {
			return 0, true
		}
		var da, db byte
		da, i = pa.next(i)
		db, j = pb.next(j)
		if da != db {
			if da > db {
				return sign, true
			}
			return -sign, true
		}
	}
}

// numberText returns the decimal text of a numeric item.
func numberText(item any) (string, bool) {
	v, _ := unwrap(item)
	switch x := v.(type) {
	case json.Number:
		return string(x), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case int:
		return strconv.Itoa(x), true
	case int64:
		return strconv.FormatInt(x, 10), true
	}
	return "", false
}

// isIntegerItem reports whether a numeric item is an integer: typed as one,
// or untyped with integral text.
func isIntegerItem(item any, text string) bool {
	if t, ok := item.(*Typed); ok {
		if integerTypes[t.Type] {
			return true
		}
		if t.Type == "decimal" {
			return false
		}
	}
	return isIntegerText(text)
}

// bigDec is an exact decimal: unscaled × 10^-scale, scale ≥ 0.
type bigDec struct {
	u     *big.Int
	scale int
}

func parseBigDec(s string) (bigDec, error) {
	p, ok := splitDecimal(s)
	if !ok {
		return bigDec{}, errNotNumber
	}
	t := s
	if t[0] == '+' || t[0] == '-' {
		t = t[1:]
	}
	e := 0
	if i := strings.IndexAny(t, "eE"); i >= 0 {
		e, _ = strconv.Atoi(t[i+1:])
		t = t[:i]
	}
	if e > maxExponent || e < -maxExponent {
		return bigDec{}, errors.New("decimal exponent out of range")
	}
	scale := 0
	if i := strings.IndexByte(t, '.'); i >= 0 {
		scale = len(t) - i - 1
		t = t[:i] + t[i+1:]
	}
	u, ok := new(big.Int).SetString(t, 10)
	if !ok {
		return bigDec{}, errNotNumber
	}
	if p.neg {
		u.Neg(u)
	}
	scale -= e
	if scale < 0 {
		u.Mul(u, pow10(-scale))
		scale = 0
	}
	return bigDec{u, scale}, nil
}

func pow10(n int) *big.Int {
	return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil)
}

func (d bigDec) rescale(scale int) bigDec {
	if scale <= d.scale {
		return d
	}
	return bigDec{new(big.Int).Mul(d.u, pow10(scale-d.scale)), scale}
}

func (d bigDec) String() string {
	s := d.u.String()
	if d.scale == 0 {
		return s
	}
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	if len(s) <= d.scale {
		s = strings.Repeat("0", d.scale-len(s)+1) + s
	}
	s = s[:len(s)-d.scale] + "." + s[len(s)-d.scale:]
	if neg {
		s = "-" + s
	}
	return s
}

// decimalArith applies + - * to exact decimals; the result scale is the
// larger scale for + and -, the sum for *.
func decimalArith(op byte, a, b string) (string, error) {
	x, err := parseBigDec(a)
	if err != nil {
		return "", err
	}
	y, err := parseBigDec(b)
	if err != nil {
		return "", err
	}
	switch op {
	case '+', '-':
		s := max(x.scale, y.scale)
		x, y = x.rescale(s), y.rescale(s)
		r := new(big.Int)
		if op == '+' {
			r.Add(x.u, y.u)
		} else {
			r.Sub(x.u, y.u)
		}
		return bigDec{r, s}.String(), nil
	case '*':
		return bigDec{new(big.Int).Mul(x.u, y.u), x.scale + y.scale}.String(), nil
	}
	return "", errors.New("unsupported operator")
}

// divPrecision is the number of fraction digits a non-terminating quotient is
// rounded to.
const divPrecision = 8

// decimalDivide returns a/b as decimal text; ok is false for division by
// zero. A terminating quotient is exact, otherwise rounded half away from
// zero to divPrecision digits.
func decimalDivide(a, b string) (string, bool, error) {
	x, err := parseBigDec(a)
	if err != nil {
		return "", false, err
	}
	y, err := parseBigDec(b)
	if err != nil {
		return "", false, err
	}
	if y.u.Sign() == 0 {
		return "", false, nil
	}
	r := new(big.Rat).SetFrac(new(big.Int).Mul(x.u, pow10(y.scale)), new(big.Int).Mul(y.u, pow10(x.scale)))
	if r.IsInt() {
		return r.Num().String(), true, nil
	}
	// Terminating iff the reduced denominator has no prime factors but 2 and 5.
	den := new(big.Int).Set(r.Denom())
	twos, fives := 0, 0
	two, five := big.NewInt(2), big.NewInt(5)
	m := new(big.Int)
	for {
		q, rem := new(big.Int).QuoRem(den, two, m)
		if rem.Sign() != 0 {
			break
		}
		den, twos = q, twos+1
	}
	for {
		q, rem := new(big.Int).QuoRem(den, five, m)
		if rem.Sign() != 0 {
			break
		}
		den, fives = q, fives+1
	}
	if den.Cmp(big.NewInt(1)) == 0 && max(twos, fives) <= 64 {
		return trimZeros(r.FloatString(max(twos, fives))), true, nil
	}
	return r.FloatString(divPrecision), true, nil
}

func trimZeros(s string) string {
	if !strings.Contains(s, ".") {
		return s
	}
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// integerDivMod returns a div b (truncated) or a mod b for exact decimals.
func integerDivMod(op string, a, b string) (string, bool, error) {
	x, err := parseBigDec(a)
	if err != nil {
		return "", false, err
	}
	y, err := parseBigDec(b)
	if err != nil {
		return "", false, err
	}
	if y.u.Sign() == 0 {
		return "", false, nil
	}
	s := max(x.scale, y.scale)
	x, y = x.rescale(s), y.rescale(s)
	q, r := new(big.Int).QuoRem(x.u, y.u, new(big.Int))
	if op == "div" {
		return q.String(), true, nil
	}
	return bigDec{r, s}.String(), true, nil
}

// intArith applies + - * to int64 operands; ok is false on overflow.
func intArith(op byte, a, b int64) (int64, bool) {
	switch op {
	case '+':
		r := a + b
		if (r > a) == (b > 0) {
			return r, true
		}
		return 0, false
	case '-':
		r := a - b
		if (r < a) == (b > 0) {
			return r, true
		}
		return 0, false
	case '*':
		if a == 0 || b == 0 {
			return 0, true
		}
		r := a * b
		if r/b != a || (a == -1 && b == -1<<63) || (b == -1 && a == -1<<63) {
			return 0, false
		}
		return r, true
	}
	return 0, false
}

// smallInts holds boxed json.Number values for 0..255 so that %rowIndex,
// count() and indexes do not allocate.
var smallInts = func() [256]any {
	var a [256]any
	for i := range a {
		a[i] = json.Number(strconv.Itoa(i))
	}
	return a
}()

// intItem returns an integer item.
func intItem(n int64) any {
	if n >= 0 && n < int64(len(smallInts)) {
		return smallInts[n]
	}
	return json.Number(strconv.FormatInt(n, 10))
}
