package pgsrc

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math"
	"strconv"
	"time"
)

// Built-in type OIDs (pg_type.dat); they are fixed across PostgreSQL
// versions. Enums have per-database OIDs and are recognised by
// pg_type.typtype instead.
const (
	oidBool        = 16
	oidName        = 19
	oidInt8        = 20
	oidInt2        = 21
	oidInt4        = 23
	oidText        = 25
	oidBPChar      = 1042
	oidVarchar     = 1043
	oidDate        = 1082
	oidTimestamp   = 1114
	oidTimestamptz = 1184
	oidNumeric     = 1700
	oidUUID        = 2950
)

// pgEpoch is 2000-01-01 00:00:00 UTC, the origin of PostgreSQL's binary
// timestamps (microseconds) and dates (days), in Unix microseconds.
const pgEpochMicros = 946684800 * 1_000_000

// minMicros and maxMicros bound the binary timestamps (microseconds since
// 2000-01-01) of years 1 to 9999, the range the contract's formats carry.
var (
	minMicros = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro() - pgEpochMicros
	maxMicros = time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC).UnixMicro() - pgEpochMicros
)

// decoder turns one column value in PostgreSQL's binary format (never NULL)
// into the contract's text format. Its error names no value.
type decoder func(buf []byte, raw []byte) ([]byte, error)

// columnType is how one result column is converted.
type columnType struct {
	oid  uint32
	name string  // PostgreSQL type name, for errors
	dec  decoder // nil when the type is not supported
}

// builtinDecoders are the supported built-in types.
var builtinDecoders = map[uint32]decoder{
	oidBool:        decodeBool,
	oidInt2:        decodeInt2,
	oidInt4:        decodeInt4,
	oidInt8:        decodeInt8,
	oidNumeric:     decodeNumeric,
	oidText:        decodeText,
	oidVarchar:     decodeText,
	oidBPChar:      decodeText,
	oidName:        decodeText,
	oidTimestamptz: decodeTimestamptz,
	oidTimestamp:   decodeTimestamp,
	oidDate:        decodeDate,
	oidUUID:        decodeUUID,
}

var (
	errLength    = errors.New("malformed binary value")
	errNotFinite = errors.New("non-finite numeric")
	errRange     = errors.New("value out of range")
)

func decodeText(buf, raw []byte) ([]byte, error) { return append(buf, raw...), nil }

// decodeEnum: an enum's binary form is its label.
func decodeEnum(buf, raw []byte) ([]byte, error) { return append(buf, raw...), nil }

func decodeBool(buf, raw []byte) ([]byte, error) {
	if len(raw) != 1 {
		return buf, errLength
	}
	if raw[0] != 0 {
		return append(buf, "true"...), nil
	}
	return append(buf, "false"...), nil
}

func decodeInt2(buf, raw []byte) ([]byte, error) {
	if len(raw) != 2 {
		return buf, errLength
	}
	return strconv.AppendInt(buf, int64(int16(binary.BigEndian.Uint16(raw))), 10), nil
}

func decodeInt4(buf, raw []byte) ([]byte, error) {
	if len(raw) != 4 {
		return buf, errLength
	}
	return strconv.AppendInt(buf, int64(int32(binary.BigEndian.Uint32(raw))), 10), nil
}

func decodeInt8(buf, raw []byte) ([]byte, error) {
	if len(raw) != 8 {
		return buf, errLength
	}
	return strconv.AppendInt(buf, int64(binary.BigEndian.Uint64(raw)), 10), nil
}

// microsToTime converts a binary timestamp (microseconds since 2000-01-01)
// to UTC; ok is false for ±infinity and for years outside 1..9999, which
// the contract's formats cannot carry.
func microsToTime(raw []byte) (time.Time, bool, error) {
	if len(raw) != 8 {
		return time.Time{}, false, errLength
	}
	us := int64(binary.BigEndian.Uint64(raw))
	if us < minMicros || us > maxMicros { // ±infinity included
		return time.Time{}, false, nil
	}
	return time.UnixMicro(pgEpochMicros + us).UTC(), true, nil
}

// decodeTimestamptz gives RFC 3339 in UTC, with fractional seconds only
// when they are not zero.
func decodeTimestamptz(buf, raw []byte) ([]byte, error) {
	t, ok, err := microsToTime(raw)
	if err != nil {
		return buf, err
	}
	if !ok {
		return buf, errRange
	}
	return t.AppendFormat(buf, time.RFC3339Nano), nil
}

// decodeTimestamp gives "YYYY-MM-DD HH:MM:SS" (the contract reads it as
// UTC), followed by fractional seconds only when they are not zero.
func decodeTimestamp(buf, raw []byte) ([]byte, error) {
	t, ok, err := microsToTime(raw)
	if err != nil {
		return buf, err
	}
	if !ok {
		return buf, errRange
	}
	return t.AppendFormat(buf, "2006-01-02 15:04:05.999999"), nil
}

// decodeDate gives "YYYY-MM-DD".
func decodeDate(buf, raw []byte) ([]byte, error) {
	if len(raw) != 4 {
		return buf, errLength
	}
	days := int32(binary.BigEndian.Uint32(raw))
	if days == math.MaxInt32 || days == math.MinInt32 {
		return buf, errRange
	}
	t := time.Date(2000, 1, 1+int(days), 0, 0, 0, 0, time.UTC)
	if y := t.Year(); y < 1 || y > 9999 {
		return buf, errRange
	}
	return t.AppendFormat(buf, "2006-01-02"), nil
}

// decodeUUID gives the canonical lowercase 8-4-4-4-12 form.
func decodeUUID(buf, raw []byte) ([]byte, error) {
	if len(raw) != 16 {
		return buf, errLength
	}
	var s [36]byte
	hex.Encode(s[0:8], raw[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], raw[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], raw[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], raw[8:10])
	s[23] = '-'
	hex.Encode(s[24:36], raw[10:16])
	return append(buf, s[:]...), nil
}

// Binary numeric sign words (src/backend/utils/adt/numeric.c).
const (
	numericPos  = 0x0000
	numericNeg  = 0x4000
	numericNaN  = 0xC000
	numericPInf = 0xD000
	numericNInf = 0xF000
)

// decodeNumeric gives the same decimal text as PostgreSQL's numeric_out:
// an optional minus sign, the integer digits, and exactly dscale fraction
// digits ("12.50" stays "12.50"). NaN and ±Infinity are errors.
//
// The binary form is ndigits, weight, sign, dscale (int16 each) followed by
// ndigits base-10000 digits; the first digit is worth 10000^weight.
func decodeNumeric(buf, raw []byte) ([]byte, error) {
	if len(raw) < 8 {
		return buf, errLength
	}
	ndigits := int(int16(binary.BigEndian.Uint16(raw[0:])))
	weight := int(int16(binary.BigEndian.Uint16(raw[2:])))
	sign := binary.BigEndian.Uint16(raw[4:])
	dscale := int(int16(binary.BigEndian.Uint16(raw[6:])))
	switch sign {
	case numericPos, numericNeg:
	case numericNaN, numericPInf, numericNInf:
		return buf, errNotFinite
	default:
		return buf, errLength
	}
	if ndigits < 0 || dscale < 0 || len(raw) != 8+2*ndigits {
		return buf, errLength
	}
	digit := func(i int) int { // base-10000 digit i (0 = most significant), 0 outside
		if i < 0 || i >= ndigits {
			return 0
		}
		return int(binary.BigEndian.Uint16(raw[8+2*i:]))
	}
	if sign == numericNeg && ndigits > 0 {
		buf = append(buf, '-')
	}
	// Integer part: digit groups 0..weight.
	if weight < 0 {
		buf = append(buf, '0')
	} else {
		buf = strconv.AppendInt(buf, int64(digit(0)), 10)
		for i := 1; i <= weight; i++ {
			buf = appendGroup(buf, digit(i))
		}
	}
	if dscale == 0 {
		return buf, nil
	}
	// Fraction: groups weight+1 onwards, cut to dscale decimal digits.
	buf = append(buf, '.')
	for i, n := weight+1, 0; n < dscale; i++ {
		var g [4]byte
		appendGroup(g[:0], digit(i))
		take := min(4, dscale-n)
		buf = append(buf, g[:take]...)
		n += take
	}
	return buf, nil
}

// appendGroup appends a base-10000 digit as four decimal digits.
func appendGroup(buf []byte, d int) []byte {
	return append(buf, byte('0'+d/1000), byte('0'+d/100%10), byte('0'+d/10%10), byte('0'+d%10))
}
