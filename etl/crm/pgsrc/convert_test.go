package pgsrc_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/carelens/carelens/internal/pgtest"
)

// oneColumn maps the contacts entity onto a test table: contact_id is its
// key, mrn the column under test.
func oneColumn(table, key, updatedAt, column string) []byte {
	return fmt.Appendf(nil, `{"entities": {"contacts": {"table": %q, "key": %q, "updated_at": %q,
		"fields": {"contact_id": %q, "mrn": %q}}}}`, table, key, updatedAt, key, column)
}

// TestConvert stores values of each supported PostgreSQL type (and some
// unsupported ones) and checks the contract text Pull makes of them, or the
// row error. The database runs with a non-ISO DateStyle and a non-UTC
// TimeZone to show that the output does not depend on them.
func TestConvert(t *testing.T) {
	type value struct {
		literal string // SQL, cast to the column type
		want    string // Fields["mrn"]
		err     string // Row.Err
	}
	unsupported := func(typ string) string { return "field mrn: unsupported column type " + typ }
	const outOfRange = "field mrn: value out of range"
	cases := []struct {
		typ  string
		vals []value
	}{
		{"boolean", []value{{"true", "true", ""}, {"false", "false", ""}, {"NULL", "", ""}}},
		{"smallint", []value{{"-32768", "-32768", ""}, {"7", "7", ""}}},
		{"integer", []value{{"2147483647", "2147483647", ""}, {"-1", "-1", ""}, {"0", "0", ""}}},
		{"bigint", []value{{"9223372036854775807", "9223372036854775807", ""}, {"-9223372036854775808", "-9223372036854775808", ""}}},
		{"numeric(10,3)", []value{{"12.5", "12.500", ""}, {"-0.001", "-0.001", ""}, {"0", "0.000", ""}, {"1234567.891", "1234567.891", ""}}},
		{"numeric", []value{
			{"'123456789012345678901234567890.000001'", "123456789012345678901234567890.000001", ""},
			{"'0.00000000000000000001'", "0.00000000000000000001", ""},
			{"100", "100", ""}, {"10000", "10000", ""}, {"-5.50", "-5.50", ""}, {"0.5", "0.5", ""},
			{"'1e20'", "100000000000000000000", ""}, {"'-0.0000'", "0.0000", ""},
			{"'NaN'", "", "field mrn: non-finite numeric"}, {"'Infinity'", "", "field mrn: non-finite numeric"},
		}},
		{"text", []value{
			{"'plain'", "plain", ""}, {`E'O''Brien, "x"\nnew'`, "O'Brien, \"x\"\nnew", ""},
			{"'  spaced  '", "  spaced  ", ""}, {"''", "", ""}, {"NULL", "", ""}, {"'Zoë 🙂'", "Zoë 🙂", ""},
		}},
		{"varchar(20)", []value{{"'abc'", "abc", ""}}},
		{"char(5)", []value{{"'ab'", "ab   ", ""}}},
		{"name", []value{{"'pg_class'", "pg_class", ""}}},
		{"timestamptz", []value{
			{"'2025-03-04 09:15:00+00'", "2025-03-04T09:15:00Z", ""},
			{"'2025-03-04 09:15:00.123-05'", "2025-03-04T14:15:00.123Z", ""},
			{"'1999-12-31 23:59:59.999999+00'", "1999-12-31T23:59:59.999999Z", ""},
			{"'1970-01-01 00:00:00+00'", "1970-01-01T00:00:00Z", ""},
			{"'0099-06-01 12:00:00+00'", "0099-06-01T12:00:00Z", ""},
			{"'infinity'", "", outOfRange}, {"'-infinity'", "", outOfRange},
			{"'10000-01-01 00:00:00+00'", "", outOfRange},
		}},
		{"timestamp", []value{
			{"'2025-03-04 09:15:00'", "2025-03-04 09:15:00", ""},
			{"'2025-03-04 09:15:00.5'", "2025-03-04 09:15:00.5", ""},
			{"'1969-07-20 20:17:40.000001'", "1969-07-20 20:17:40.000001", ""},
			{"'-infinity'", "", outOfRange},
		}},
		{"date", []value{
			{"'2025-03-04'", "2025-03-04", ""}, {"'1999-12-31'", "1999-12-31", ""}, {"'2000-01-01'", "2000-01-01", ""},
			{"'0001-01-01'", "0001-01-01", ""}, {"'infinity'", "", outOfRange},
		}},
		{"mood", []value{{"'sms'", "sms", ""}, {"'Happy Days'", "Happy Days", ""}}},
		{"uuid", []value{{"'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", ""}}},
		{"positive", []value{{"5", "5", ""}}}, // a domain over integer
		{"jsonb", []value{{`'{"mrn": "x"}'`, "", unsupported("jsonb")}, {"NULL", "", ""}}},
		{"json", []value{{`'[1]'`, "", unsupported("json")}}},
		{"integer[]", []value{{"'{1,2}'", "", unsupported("integer[]")}}},
		{"bytea", []value{{`'\x00ff'`, "", unsupported("bytea")}}},
		{"double precision", []value{{"1.5", "", unsupported("double precision")}}},
		{"interval", []value{{"'1 day'", "", unsupported("interval")}}},
	}
	dsn := pgtest.Shared(t).CreateDB(t, "convert")
	exec(t, dsn, `ALTER DATABASE convert SET DateStyle = 'SQL, DMY'`)
	exec(t, dsn, `ALTER DATABASE convert SET TimeZone = 'Asia/Kathmandu'`)
	exec(t, dsn, `CREATE TYPE mood AS ENUM ('sms', 'Happy Days')`)
	exec(t, dsn, `CREATE DOMAIN positive AS integer CHECK (VALUE > 0)`)
	for i, c := range cases {
		t.Run(c.typ, func(t *testing.T) {
			table := fmt.Sprintf("conv%d", i)
			exec(t, dsn, fmt.Sprintf(`CREATE TABLE %s (id bigint PRIMARY KEY, updated_at timestamptz NOT NULL DEFAULT now(), v %s)`, table, c.typ))
			for j, v := range c.vals {
				exec(t, dsn, fmt.Sprintf(`INSERT INTO %s (id, v) VALUES (%d, %s)`, table, j+1, v.literal))
			}
			s := open(t, dsn, oneColumn(table, "id", "updated_at", "v"))
			rows := pull(t, s, nil, 2).rows["contacts"] // pages of 2: converters survive page turns
			if len(rows) != len(c.vals) {
				t.Fatalf("%d rows, want %d", len(rows), len(c.vals))
			}
			for j, v := range c.vals {
				r := rows[j]
				if r.N != int64(j+1) || r.Fields["contact_id"] != fmt.Sprint(j+1) {
					t.Errorf("row %d: N = %d, contact_id = %q", j+1, r.N, r.Fields["contact_id"])
				}
				if r.Fields["mrn"] != v.want || r.Err != v.err {
					t.Errorf("%s %s: got %q, err %q; want %q, err %q", c.typ, v.literal, r.Fields["mrn"], r.Err, v.want, v.err)
				}
				if r.Err != "" && strings.Contains(r.Err, strings.Trim(v.literal, "'")) {
					t.Errorf("Row.Err %q quotes the value", r.Err)
				}
			}
		})
	}
}

// TestPullKeyTypes pages through tables keyed by other types than bigint
// (the last key goes back to PostgreSQL in binary as the next page's
// bound), including a text key whose collation order is not byte order,
// and reads a timestamp-without-time-zone updated_at as UTC.
func TestPullKeyTypes(t *testing.T) {
	dsn := pgtest.Shared(t).CreateDB(t, "keytypes")
	cases := []struct {
		typ  string
		keys []string
	}{
		{"uuid", []string{"00000000-0000-0000-0000-000000000001", "ffffffff-0000-0000-0000-000000000000", "7fffffff-0000-0000-0000-000000000000", "80000000-0000-0000-0000-000000000000", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"}},
		{"text", []string{"a", "B", "_x", "ä", "a b", "A", "10", "9", ""}},
		{"varchar(10) COLLATE \"C\"", []string{"a", "B", "_x", "Z", "z"}},
		{"numeric", []string{"-1.5", "0", "0.25", "10", "9.999", "100000000000000000000"}},
		{"integer", []string{"-2147483648", "-1", "0", "1", "2147483647"}},
		{"date", []string{"1999-12-31", "2000-01-01", "2025-03-04", "0001-01-01"}},
	}
	for i, c := range cases {
		t.Run(c.typ, func(t *testing.T) {
			table := fmt.Sprintf("keys%d", i)
			exec(t, dsn, fmt.Sprintf(`CREATE TABLE %s (k %s PRIMARY KEY, changed timestamp NOT NULL)`, table, c.typ))
			for j, k := range c.keys {
				exec(t, dsn, fmt.Sprintf(`INSERT INTO %s VALUES ($1, timestamp '2025-01-01 00:00:00' + $2 * interval '1 hour')`, table), k, j)
			}
			s := open(t, dsn, oneColumn(table, "k", "changed", "changed"))
			p := pull(t, s, nil, 2)
			seen := map[string]bool{}
			for _, r := range p.rows["contacts"] {
				if seen[r.Fields["contact_id"]] {
					t.Errorf("key %q twice", r.Fields["contact_id"])
				}
				seen[r.Fields["contact_id"]] = true
			}
			if len(seen) != len(c.keys) {
				t.Errorf("%d distinct keys, want %d", len(seen), len(c.keys))
			}
			last := time.Date(2025, 1, 1, len(c.keys)-1, 0, 0, 0, time.UTC)
			if got := p.marks["contacts"]; !got.Equal(last) {
				t.Errorf("watermark %v, want %v (timestamp read as UTC)", got, last)
			}
			// From the watermark, only the last row comes back.
			again := pull(t, s, p.marks, 2).rows["contacts"]
			if len(again) != 1 || again[0].Fields["mrn"] != last.Format("2006-01-02 15:04:05") {
				t.Errorf("pull from the watermark: %+v, want the one row at %v", again, last)
			}
		})
	}
}
