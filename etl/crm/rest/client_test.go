package rest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/carelens/carelens/etl/crm/contract"
	"github.com/carelens/carelens/etl/crm/rest"
	"github.com/carelens/carelens/etl/crm/rest/resttest"
)

func TestPagination(t *testing.T) {
	for _, tc := range []struct {
		style     string
		pageSize  int // 0 = client default (500)
		records   int
		wantPages int
	}{
		{"cursor", 5, 23, 5},
		{"cursor", 0, 23, 1},
		{"cursor", 7, 0, 1},
		{"page_token", 10, 30, 3},
		{"page_token", 1, 4, 4},
	} {
		t.Run(fmt.Sprintf("%s/size%d/n%d", tc.style, tc.pageSize, tc.records), func(t *testing.T) {
			srv := resttest.NewServer(map[string][]map[string]any{"contacts": contacts(tc.records)},
				resttest.Options{Pagination: tc.style})
			defer srv.Close()
			h := newClient(t, srv.URL, func(c *rest.Config) {
				c.Pagination = tc.style
				c.PageSize = tc.pageSize
			})
			pages := h.pull(t, "contacts", time.Time{}, "")
			if len(pages) != tc.wantPages {
				t.Fatalf("%d pages, want %d", len(pages), tc.wantPages)
			}
			checkFields(t, fields(t, pages), 0, tc.records)

			cursorParam, otherParam := "cursor", "page_token"
			if tc.style == "page_token" {
				cursorParam, otherParam = otherParam, cursorParam
			}
			wantLimit := strconv.Itoa(cmp(tc.pageSize, rest.DefaultPageSize))
			log := srv.Log()
			if len(log) != tc.wantPages || srv.Requests() != tc.wantPages {
				t.Fatalf("%d requests logged, %d counted, want %d", len(log), srv.Requests(), tc.wantPages)
			}
			for i, r := range log {
				if r.Method != http.MethodGet || r.Path != "/contacts" || r.Status != http.StatusOK {
					t.Errorf("request %d: %s %s → %d", i, r.Method, r.Path, r.Status)
				}
				if got := r.Query.Get("limit"); got != wantLimit {
					t.Errorf("request %d: limit=%q, want %q", i, got, wantLimit)
				}
				if r.Query.Has("updated_since") || r.Query.Has(otherParam) || r.Authorization != "" {
					t.Errorf("request %d: unexpected since, %s or Authorization: %v %q", i, otherParam, r.Query, r.Authorization)
				}
				wantCursor := ""
				if i > 0 {
					wantCursor = pages[i-1].Next
				}
				if got := r.Query.Get(cursorParam); got != wantCursor || r.Query.Has(cursorParam) != (i > 0) {
					t.Errorf("request %d: %s=%q, want %q", i, cursorParam, got, wantCursor)
				}
			}
			for i, p := range pages {
				if (p.Next == "") != (i == len(pages)-1) {
					t.Errorf("page %d: Next %q", i, p.Next)
				}
			}
		})
	}
}

// cmp returns v, or def when v is zero.
func cmp(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

func TestSince(t *testing.T) {
	srv := resttest.NewServer(map[string][]map[string]any{"contacts": contacts(10)}, resttest.Options{})
	defer srv.Close()
	h := newClient(t, srv.URL, func(c *rest.Config) { c.PageSize = 3 })
	// t0+6h in UTC-5, with a fraction of a second that must be truncated
	// (never rounded up, which would skip records).
	est := time.FixedZone("EST", -5*3600)
	since := t0.Add(6*time.Hour + 900*time.Millisecond).In(est)
	pages := h.pull(t, "contacts", since, "")
	if len(pages) != 2 {
		t.Fatalf("%d pages, want 2", len(pages))
	}
	// Records updated at or after t0+6h: 6, 7, 8, 9.
	checkFields(t, fields(t, pages), 6, 4)
	for i, r := range srv.Log() {
		if got := r.Query.Get("updated_since"); got != "2025-03-04T15:00:00Z" {
			t.Errorf("request %d: updated_since=%q, want 2025-03-04T15:00:00Z", i, got)
		}
	}
}

func TestCustomNames(t *testing.T) {
	// The API calls contacts "people" under /v1, names the id "id", and uses
	// its own parameter and field names.
	recs := []map[string]any{
		{"id": "C1", "medical_record_number": "M1", "contact_id": "not-this-one", "language": "es", "modified": "2025-03-05T00:00:00Z"},
		{"id": "C2", "medical_record_number": "M2", "modified": "2025-03-06T00:00:00Z"},
		{"id": "C3", "modified": "2025-03-01T00:00:00Z"}, // before since
		{"id": "C4", "modified": "2025-03-07T00:00:00Z"},
	}
	opt := resttest.Options{
		CursorParam: "after", NextField: "paging_next", DataField: "results",
		SinceParam: "modified_since", PageSizeParam: "per_page", UpdatedField: "modified",
	}
	srv := resttest.NewServer(map[string][]map[string]any{"v1/people": recs}, opt)
	defer srv.Close()
	h := newClient(t, srv.URL+"/v1/", func(c *rest.Config) {
		c.CursorParam, c.NextField, c.DataField = opt.CursorParam, opt.NextField, opt.DataField
		c.SinceParam, c.PageSizeParam, c.PageSize = opt.SinceParam, opt.PageSizeParam, 2
		c.Entities = map[string]rest.EntityConfig{"contacts": {
			Path:   "/people",
			Fields: map[string]string{"contact_id": "id", "mrn": "medical_record_number", "updated_at": "modified"},
		}}
	})
	pages := h.pull(t, "contacts", time.Date(2025, 3, 2, 0, 0, 0, 0, time.UTC), "")
	want := []contract.Fields{
		{"contact_id": "C1", "mrn": "M1", "language": "es", "updated_at": "2025-03-05T00:00:00Z"},
		{"contact_id": "C2", "mrn": "M2", "updated_at": "2025-03-06T00:00:00Z"},
		{"contact_id": "C4", "updated_at": "2025-03-07T00:00:00Z"},
	}
	got := fields(t, pages)
	if len(pages) != 2 || !slices.EqualFunc(got, want, maps.Equal) {
		t.Fatalf("%d pages, records %v, want 2 pages, %v", len(pages), got, want)
	}
	for i, r := range srv.Log() {
		if r.Path != "/v1/people" || r.Query.Get("per_page") != "2" || r.Query.Get("modified_since") != "2025-03-02T00:00:00Z" ||
			(i > 0) != r.Query.Has("after") {
			t.Errorf("request %d: %s ?%s", i, r.Path, r.Query.Encode())
		}
	}
}

func TestLastPageForms(t *testing.T) {
	for _, form := range []string{"absent", "null", "empty"} {
		t.Run(form, func(t *testing.T) {
			srv := resttest.NewServer(map[string][]map[string]any{"contacts": contacts(5)}, resttest.Options{LastPage: form})
			defer srv.Close()
			h := newClient(t, srv.URL, func(c *rest.Config) { c.PageSize = 3 })
			pages := h.pull(t, "contacts", time.Time{}, "")
			if len(pages) != 2 || pages[1].Next != "" || srv.Requests() != 2 {
				t.Fatalf("%d pages, last Next %q, %d requests", len(pages), pages[len(pages)-1].Next, srv.Requests())
			}
			checkFields(t, fields(t, pages), 0, 5)
		})
	}
}

func TestNextLinksOnSameOrigin(t *testing.T) {
	srv := resttest.NewServer(map[string][]map[string]any{"contacts": contacts(7)},
		resttest.Options{NextLinks: true, Token: "static-token"})
	defer srv.Close()
	h := newClient(t, srv.URL, func(c *rest.Config) { c.PageSize = 3; c.Token = "static-token" })
	pages := h.pull(t, "contacts", t0.Add(2*time.Hour), "")
	if len(pages) != 2 || !strings.HasPrefix(pages[0].Next, srv.URL+"/contacts?") {
		t.Fatalf("%d pages, first Next %q", len(pages), pages[0].Next)
	}
	checkFields(t, fields(t, pages), 2, 5)
	for i, r := range srv.Log() {
		if r.Authorization != "Bearer static-token" || r.Status != http.StatusOK {
			t.Errorf("request %d: Authorization %q, status %d", i, r.Authorization, r.Status)
		}
	}
}

func TestRecords(t *testing.T) {
	recs := []map[string]any{
		{"contact_id": "C1", "first_name": "Alice", "sms_opt_out": true, "email_opt_out": false, "mrn": nil,
			"score": json.Number("12345678901234567890.10"), "visits": 7},
		resttest.Raw(`{"contact_id": "C2", "amount": 1.50, "huge": 1e400, "neg": -0, "esc": "a\u00e9\n\"b\"", "sp":  2 }`),
		resttest.Raw(`"Alice Smith"`),
		resttest.Raw(`null`),
		resttest.Raw(`["Alice", "+1-555-0100"]`),
		resttest.Raw(`42`),
		{"contact_id": "C3", "address": map[string]any{"line": "1 Main St"}, "phones": []any{"+1-555-0100"}, "first_name": "Alice"},
		{},
		// Renamed: id → contact_id (the API's own contact_id is ignored),
		// mobile → phone, which is nested here.
		{"id": "C4", "contact_id": map[string]any{"ignored": "Alice"}, "mobile": map[string]any{"n": "+1-555-0100"}},
		{"id": "C5", "contact_id": "ignored", "mobile": "+1-555-0100"},
		// A key that is not a plain name is not repeated in the reason.
		{"id": "C6", "alice@example.org": map[string]any{"x": 1}},
	}
	srv := resttest.NewServer(map[string][]map[string]any{"consents": recs}, resttest.Options{})
	defer srv.Close()
	h := newClient(t, srv.URL, func(c *rest.Config) {
		c.Entities = map[string]rest.EntityConfig{"consents": {Fields: map[string]string{"contact_id": "id", "phone": "mobile"}}}
	})
	p, err := h.Page(context.Background(), "consents", time.Time{}, "")
	if err != nil {
		t.Fatal(err)
	}
	const notObject = "record is not a JSON object"
	want := []rest.Item{
		{Fields: contract.Fields{"first_name": "Alice", "sms_opt_out": "true", "email_opt_out": "false", "mrn": "",
			"score": "12345678901234567890.10", "visits": "7"}},
		{Fields: contract.Fields{"amount": "1.50", "huge": "1e400", "neg": "-0", "esc": "a\u00e9\n\"b\"", "sp": "2"}},
		{Err: notObject},
		{Err: notObject},
		{Err: notObject},
		{Err: notObject},
		{Err: "field address: not a scalar value; field phones: not a scalar value"},
		{Fields: contract.Fields{}},
		{Err: "field phone: not a scalar value"},
		{Fields: contract.Fields{"contact_id": "C5", "phone": "+1-555-0100"}},
		{Err: "field (invalid name): not a scalar value"},
	}
	// contact_id is taken from the API key id, so records 0 and 1 (which
	// have a contact_id key but no id) have no contact_id.
	if len(p.Items) != len(want) || p.Next != "" {
		t.Fatalf("%d items, Next %q", len(p.Items), p.Next)
	}
	for i, it := range p.Items {
		if it.Err != want[i].Err || !maps.Equal(it.Fields, want[i].Fields) || (it.Fields == nil) != (want[i].Fields == nil) {
			t.Errorf("item %d:\n got  %+v\n want %+v", i, it, want[i])
		}
		checkNoSecrets(t, fmt.Sprintf("item %d error", i), it.Err)
	}
	if !strings.Contains(h.logs.String(), "items=11 invalid=7") {
		t.Errorf("page log lacks the item counts:\n%s", h.logs)
	}
	checkNoSecrets(t, "log", h.logs.String())

	// The same records without renaming keep their API keys.
	h2 := newClient(t, srv.URL, nil)
	p, err = h2.Page(context.Background(), "consents", time.Time{}, "")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p.Items[0].Fields["contact_id"], "C1"; got != want {
		t.Errorf("unrenamed contact_id %q, want %q", got, want)
	}
	if got, want := p.Items[8].Err, "field contact_id: not a scalar value; field mobile: not a scalar value"; got != want {
		t.Errorf("unrenamed item 8 Err %q, want %q", got, want)
	}
}

// fixedServer serves body with status on every request and counts them.
func fixedServer(t *testing.T, status int, body string) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func TestContractBreach(t *testing.T) {
	for _, tc := range []struct {
		body, cursor, want string
	}{
		{`{"next_cursor": "x"}`, "", `response has no "data" field`},
		{`{"data": {"first_name": "Alice"}}`, "", `response field "data" is a JSON object, not an array`},
		{`{"data": null}`, "", `response field "data" is a JSON null, not an array`},
		{`{"data": "Alice"}`, "", `response field "data" is a JSON string, not an array`},
		{`[{"first_name": "Alice"}]`, "", `response is a JSON array, not an object`},
		{`null`, "", `response is JSON null, not an object`},
		{`"Alice"`, "", `response is a JSON string, not an object`},
		{`{"data": [], "next_cursor": 5}`, "", `response field "next_cursor" is a JSON number, not a string or null`},
		{`{"data": [], "next_cursor": "c2"}`, "c2", `next cursor repeats the current one`},
	} {
		t.Run(tc.want, func(t *testing.T) {
			srv, n := fixedServer(t, http.StatusOK, tc.body)
			h := newClient(t, srv.URL, nil)
			_, err := h.Page(context.Background(), "contacts", time.Time{}, tc.cursor)
			if !errors.Is(err, rest.ErrContract) || !strings.HasPrefix(err.Error(), "contacts page: ") ||
				!strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want ErrContract with %q", err, tc.want)
			}
			if n.Load() != 1 || len(h.sleeps.all()) != 0 {
				t.Errorf("%d requests, waits %v: a contract breach must not be retried", n.Load(), h.sleeps.all())
			}
			checkNoSecrets(t, "error", err.Error())
		})
	}
}

func TestInvalidJSONIsRetried(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{`{"data": [{"first_name": "Alice"`, "truncated JSON body"},
		{`<html>Alice</html>`, "invalid JSON body at byte 1"},
		{`{"data": []} {"first_name": "Alice"}`, "data after the top-level value"},
		{``, "truncated JSON body"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			srv, n := fixedServer(t, http.StatusOK, tc.body)
			h := newClient(t, srv.URL, func(c *rest.Config) { c.MaxRetries = 2 })
			_, err := h.Page(context.Background(), "contacts", time.Time{}, "")
			if !errors.Is(err, rest.ErrRetriesExhausted) || !strings.Contains(err.Error(), "after 3 attempts") ||
				!strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want retries exhausted after 3 attempts with %q", err, tc.want)
			}
			if n.Load() != 3 || len(h.sleeps.all()) != 2 {
				t.Errorf("%d requests, %d waits; want 3 and 2", n.Load(), len(h.sleeps.all()))
			}
			checkNoSecrets(t, "error", err.Error())
			checkNoSecrets(t, "log", h.logs.String())
		})
	}
}

func TestServerTime(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 30, 45, 0, time.UTC)
	srv := resttest.NewServer(map[string][]map[string]any{"campaigns": {}}, resttest.Options{Now: func() time.Time { return now }})
	defer srv.Close()
	h := newClient(t, srv.URL, nil)
	p, err := h.Page(context.Background(), "campaigns", time.Time{}, "")
	if err != nil {
		t.Fatal(err)
	}
	if !p.ServerTime.Equal(now) || len(p.Items) != 0 || p.Items == nil || p.Next != "" {
		t.Fatalf("ServerTime %v (want %v), %d items, Next %q", p.ServerTime, now, len(p.Items), p.Next)
	}

	// No Date header: zero ServerTime.
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Date"] = nil // suppress the automatic header
		_, _ = w.Write([]byte(`{"data": []}`))
	}))
	defer plain.Close()
	p, err = newClient(t, plain.URL, nil).Page(context.Background(), "campaigns", time.Time{}, "")
	if err != nil || !p.ServerTime.IsZero() {
		t.Fatalf("without Date: ServerTime %v, error %v", p.ServerTime, err)
	}
}

func TestUnknownEntity(t *testing.T) {
	srv := resttest.NewServer(nil, resttest.Options{})
	defer srv.Close()
	h := newClient(t, srv.URL, nil)
	_, err := h.Page(context.Background(), "patients", time.Time{}, "")
	if !errors.Is(err, rest.ErrUnknownEntity) || srv.Requests() != 0 {
		t.Fatalf("error %v after %d requests, want ErrUnknownEntity and none", err, srv.Requests())
	}
	want := []string{"contacts", "campaigns", "messages", "message_events", "survey_responses", "consents"}
	if got := rest.Entities(); !slices.Equal(got, want) {
		t.Fatalf("Entities() = %v", got)
	}
	rest.Entities()[0] = "changed"
	if rest.Entities()[0] != "contacts" {
		t.Fatal("Entities returns a shared slice")
	}
}

func TestEveryEntityConcurrently(t *testing.T) {
	data := map[string][]map[string]any{}
	for i, e := range rest.Entities() {
		recs := make([]map[string]any, 10+i)
		for j := range recs {
			recs[j] = map[string]any{"id": fmt.Sprintf("%s-%d", e, j)}
		}
		data[e] = recs
	}
	srv := resttest.NewServer(data, resttest.Options{ClientID: "carelens", ClientSecret: "s", TokenTTL: time.Hour})
	defer srv.Close()
	h := newClient(t, srv.URL, func(c *rest.Config) {
		c.PageSize = 4
		c.OAuth = &rest.OAuth{TokenURL: srv.TokenURL(), ClientID: "carelens", ClientSecret: "s"}
	})
	type result struct {
		entity string
		ids    []string
		err    error
	}
	results := make(chan result)
	for _, e := range rest.Entities() {
		go func() {
			r := result{entity: e}
			for p, err := range h.Pages(context.Background(), e, time.Time{}, "") {
				if err != nil {
					r.err = err
					break
				}
				for _, it := range p.Items {
					r.ids = append(r.ids, it.Fields.Get("id"))
				}
			}
			results <- r
		}()
	}
	for range rest.Entities() {
		r := <-results
		if r.err != nil {
			t.Errorf("%s: %v", r.entity, r.err)
			continue
		}
		var want []string
		for _, rec := range data[r.entity] {
			want = append(want, rec["id"].(string))
		}
		if !slices.Equal(r.ids, want) {
			t.Errorf("%s: ids %v, want %v", r.entity, r.ids, want)
		}
	}
	// One token shared by all six pulls.
	if c := srv.Counts(); c.TokenRequests != 1 || c.TokensIssued != 1 || c.Unauthorized != 0 {
		t.Errorf("counts %+v, want one token request", c)
	}
}

func TestPagesStopsEarly(t *testing.T) {
	srv := resttest.NewServer(map[string][]map[string]any{"contacts": contacts(10)}, resttest.Options{})
	defer srv.Close()
	h := newClient(t, srv.URL, func(c *rest.Config) { c.PageSize = 2 })
	var next string
	for p, err := range h.Pages(context.Background(), "contacts", time.Time{}, "") {
		if err != nil {
			t.Fatal(err)
		}
		next = p.Next
		break
	}
	if srv.Requests() != 1 {
		t.Fatalf("%d requests after breaking out of the first page", srv.Requests())
	}
	checkFields(t, fields(t, h.pull(t, "contacts", time.Time{}, next)), 2, 8)
}
