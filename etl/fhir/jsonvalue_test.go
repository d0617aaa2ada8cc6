package fhir

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

// stdDecode is the reference: encoding/json with UseNumber, one value only.
func stdDecode(data []byte) (any, error) {
	if !json.Valid(data) {
		return nil, errJSON
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}

var jsonCases = []string{
	`{"resourceType":"Patient","id":"p1","active":true,"deceasedBoolean":false,"x":null}`,
	`{"a":[1,-2.50,3e5,0,-0.0e-1,{"b":[]}],"c":{}}`,
	`  {"s":"tab\tnew\nquote\"slash\/back\\u:\u00e9\ud83d\ude00"}  `,
	`{"lone":"\ud800x","pair-broken":"\ud800\u0041","low":"\udc00"}`,
	"{\"bad-utf8\":\"a\xffb\xc3\"}",
	`{"dup":1,"dup":2}`,
	`[1,2]`, `"just a string"`, `12`, `true`, `null`,
	// malformed
	`{"a":1,}`, `{"a" 1}`, `{"a":01}`, `{"a":1.}`, `{"a":-}`, `{"a":1e}`, `[1 2]`, `{"a":"x}`,
	`{"a":"\x"}`, `{"a":"\u12G4"}`, "{\"a\":\"ctl\x01\"}", `{"a":1}{"b":2}`, `{"a":1} x`, `0 }`, ``, `{`, `tru`, `nul`,
	`{"a":[1,2,]}`, `{,}`, `{"a":1`, `["a"`,
}

func TestJSONDecoderMatchesEncodingJSON(t *testing.T) {
	d := newJSONDecoder()
	for _, c := range jsonCases {
		want, werr := stdDecode([]byte(c))
		got, gerr := d.decode([]byte(c))
		if (werr != nil) != (gerr != nil) {
			t.Errorf("%q: error %v, encoding/json %v", c, gerr, werr)
			continue
		}
		if werr == nil && !reflect.DeepEqual(got, want) {
			t.Errorf("%q:\n got %#v\nwant %#v", c, got, want)
		}
	}
}

func FuzzJSONDecoder(f *testing.F) {
	for _, c := range jsonCases {
		f.Add([]byte(c))
	}
	d := newJSONDecoder()
	f.Fuzz(func(t *testing.T, data []byte) {
		want, werr := stdDecode(data)
		got, gerr := d.decode(data)
		if (werr != nil) != (gerr != nil) {
			t.Fatalf("%q: error %v, encoding/json %v", data, gerr, werr)
		}
		if werr == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("%q:\n got %#v\nwant %#v", data, got, want)
		}
	})
}
