package rest

import (
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	c := &Client{s: &settings{maxBackoff: 5 * time.Second}}
	ceils := []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second}
	for n, ceil := range ceils {
		lo, hi := ceil, time.Duration(0)
		for range 200 {
			d := c.backoff(n + 1)
			if d < ceil/2 || d > ceil {
				t.Fatalf("backoff(%d) = %v, want within [%v, %v]", n+1, d, ceil/2, ceil)
			}
			lo, hi = min(lo, d), max(hi, d)
		}
		// Jitter: the waits spread over most of the range.
		if hi-lo < ceil/4 {
			t.Errorf("backoff(%d) spread [%v, %v]: no jitter", n+1, lo, hi)
		}
	}
	// Late retries do not overflow.
	if d := c.backoff(1000); d < 2500*time.Millisecond || d > 5*time.Second {
		t.Errorf("backoff(1000) = %v", d)
	}
	tiny := &Client{s: &settings{maxBackoff: time.Nanosecond}}
	if d := tiny.backoff(3); d > time.Nanosecond {
		t.Errorf("backoff with a 1 ns cap = %v", d)
	}
}

func TestPageURL(t *testing.T) {
	c, err := New(Config{BaseURL: "https://crm.example.org/api/v2/", PageSize: 50,
		Entities: map[string]EntityConfig{"message_events": {Path: "/events/message status"}}})
	if err != nil {
		t.Fatal(err)
	}
	since := time.Date(2025, 3, 4, 4, 15, 0, 999, time.FixedZone("", -5*3600))
	for _, tc := range []struct {
		entity, cursor string
		since          time.Time
		want           string
	}{
		{"contacts", "", time.Time{}, "https://crm.example.org/api/v2/contacts?limit=50"},
		{"contacts", "a+b/c=", since, "https://crm.example.org/api/v2/contacts?cursor=a%2Bb%2Fc%3D&limit=50&updated_since=2025-03-04T09%3A15%3A00Z"},
		{"message_events", "", time.Time{}, "https://crm.example.org/api/v2/events/message%20status?limit=50"},
		{"contacts", "https://crm.example.org/other?p=2", since, "https://crm.example.org/other?p=2"},
	} {
		got, err := c.pageURL(c.s.entities[tc.entity], tc.since, tc.cursor)
		if err != nil || got != tc.want {
			t.Errorf("pageURL(%s, %q) = %q, %v; want %q", tc.entity, tc.cursor, got, err, tc.want)
		}
	}
	for _, link := range []string{"https://crm.example.org:444/x", "http://crm.example.org/x", "https://u:p@crm.example.org/x"} {
		if got, err := c.pageURL(c.s.entities["contacts"], time.Time{}, link); err == nil {
			t.Errorf("next link %s accepted as %s", link, got)
		}
	}
}

func TestItemKeepsNumberText(t *testing.T) {
	e := &entity{rename: map[string]string{}, shadowed: map[string]bool{}}
	it := e.item([]byte(`{"a" :  1.50 , "b":	-2e-7
, "c": 10000000000000000000001, "d" : null }`))
	want := map[string]string{"a": "1.50", "b": "-2e-7", "c": "10000000000000000000001", "d": ""}
	if it.Err != "" || len(it.Fields) != len(want) {
		t.Fatalf("item %+v", it)
	}
	for k, v := range want {
		if it.Fields[k] != v {
			t.Errorf("%s = %q, want %q", k, it.Fields[k], v)
		}
	}
}
