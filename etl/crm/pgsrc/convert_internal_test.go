package pgsrc

import (
	"encoding/binary"
	"testing"
)

// numeric builds a binary numeric: sign, weight, dscale, base-10000 digits.
func numeric(sign uint16, weight, dscale int16, digits ...uint16) []byte {
	b := binary.BigEndian.AppendUint16(nil, uint16(len(digits)))
	b = binary.BigEndian.AppendUint16(b, uint16(weight))
	b = binary.BigEndian.AppendUint16(b, sign)
	b = binary.BigEndian.AppendUint16(b, uint16(dscale))
	for _, d := range digits {
		b = binary.BigEndian.AppendUint16(b, d)
	}
	return b
}

// TestDecoders covers the binary decoders without a server, malformed
// input included (the server never sends it; the decoders must not panic).
func TestDecoders(t *testing.T) {
	cases := []struct {
		name string
		dec  decoder
		raw  []byte
		want string
		err  error
	}{
		{"numeric 0", decodeNumeric, numeric(numericPos, 0, 0), "0", nil},
		{"numeric 0.00", decodeNumeric, numeric(numericPos, 0, 2), "0.00", nil},
		{"numeric 12345.678", decodeNumeric, numeric(numericPos, 1, 3, 1, 2345, 6780), "12345.678", nil},
		{"numeric -0.001", decodeNumeric, numeric(numericNeg, -1, 3, 10), "-0.001", nil},
		{"numeric 1e8", decodeNumeric, numeric(numericPos, 2, 0, 1), "100000000", nil},
		{"numeric 1.5 at scale 0 (truncated like numeric_out)", decodeNumeric, numeric(numericPos, 0, 0, 1, 5000), "1", nil},
		{"numeric NaN", decodeNumeric, numeric(numericNaN, 0, 0), "", errNotFinite},
		{"numeric -Infinity", decodeNumeric, numeric(numericNInf, 0, 0), "", errNotFinite},
		{"numeric bad sign", decodeNumeric, numeric(0x1234, 0, 0), "", errLength},
		{"numeric short", decodeNumeric, []byte{0, 1}, "", errLength},
		{"numeric digits missing", decodeNumeric, numeric(numericPos, 0, 0, 1)[:9], "", errLength},
		{"bool short", decodeBool, nil, "", errLength},
		{"int2 long", decodeInt2, []byte{0, 0, 0}, "", errLength},
		{"int4 -2", decodeInt4, []byte{0xff, 0xff, 0xff, 0xfe}, "-2", nil},
		{"int8 short", decodeInt8, []byte{1}, "", errLength},
		{"timestamptz epoch", decodeTimestamptz, make([]byte, 8), "2000-01-01T00:00:00Z", nil},
		{"timestamptz short", decodeTimestamptz, make([]byte, 4), "", errLength},
		{"timestamp epoch", decodeTimestamp, make([]byte, 8), "2000-01-01 00:00:00", nil},
		{"date epoch", decodeDate, make([]byte, 4), "2000-01-01", nil},
		{"date short", decodeDate, make([]byte, 8), "", errLength},
		{"uuid", decodeUUID, []byte{0xa0, 0xee, 0xbc, 0x99, 0x9c, 0x0b, 0x4e, 0xf8, 0xbb, 0x6d, 0x6b, 0xb9, 0xbd, 0x38, 0x0a, 0x11}, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", nil},
		{"uuid short", decodeUUID, make([]byte, 15), "", errLength},
	}
	for _, c := range cases {
		got, err := c.dec([]byte("prefix:"), c.raw)
		if err != c.err {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.err)
			continue
		}
		if err == nil && string(got) != "prefix:"+c.want {
			t.Errorf("%s: %q, want %q", c.name, got, "prefix:"+c.want)
		}
		if err != nil && string(got) != "prefix:" {
			t.Errorf("%s: failed decoder appended %q", c.name, got)
		}
	}
}
