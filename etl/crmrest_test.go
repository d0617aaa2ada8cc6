package etl

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/carelens/carelens/etl/crm/rest"
	"github.com/carelens/carelens/etl/crm/rest/resttest"
	"github.com/carelens/carelens/etl/deid"
)

func restFixture() map[string][]map[string]any {
	return map[string][]map[string]any{
		"contacts": {
			{"contact_id": "C-1", "first_name": "Oriel", "phone": "617-555-0101", "preferred_channel": "sms", "sms_opt_out": false, "language": "en", "updated_at": "2025-03-01T00:00:00Z"},
			{"contact_id": "C-2", "first_name": "Pim", "preferred_channel": "email", "email_opt_out": true, "language": "nl", "updated_at": "2025-03-02T00:00:00Z"},
			{"contact_id": "C-3", "preferred_channel": "voice", "language": "es", "updated_at": "2025-03-03T00:00:00Z"},
		},
		"campaigns": {
			{"campaign_id": "CMP-1", "name": "Flu 2025", "purpose": "preventive_care", "channel": "sms", "start_date": "2025-01-01"},
		},
		"messages": {
			{"message_id": "M-1", "contact_id": "C-1", "campaign_id": "CMP-1", "purpose": "preventive_care", "channel": "sms", "sent_at": "2025-03-04T10:00:00Z", "body": "Hi Oriel"},
			{"message_id": "M-2", "contact_id": "C-2", "purpose": "refill_reminder", "channel": "email", "sent_at": "2025-03-04T11:00:00Z"},
			{"message_id": "M-3", "contact_id": "C-3", "purpose": "lab_result", "channel": "voice", "sent_at": "2025-03-04T12:00:00Z", "failed_at": "2025-03-04T12:01:00Z"},
			{"message_id": "M-4", "contact_id": "C-404", "purpose": "lab_result", "channel": "sms", "sent_at": "2025-03-04T12:00:00Z"},
			{"message_id": "M-5", "contact_id": "C-1", "purpose": "education", "channel": "sms", "sent_at": "2025-03-05T12:00:00Z"},
		},
		"message_events": {
			{"event_id": "E-1", "message_id": "M-1", "event": "delivered", "occurred_at": "2025-03-04T10:01:00Z"},
			{"event_id": "E-2", "message_id": "M-1", "event": "opened", "occurred_at": "2025-03-04T10:30:00Z"},
			{"event_id": "E-3", "message_id": "M-2", "event": "delivered", "occurred_at": "2025-03-04T11:02:00Z"},
			{"event_id": "E-4", "message_id": "M-1", "event": "delivered", "occurred_at": "2025-03-04T10:09:00Z"},
		},
		"survey_responses": {
			{"response_id": "R-1", "contact_id": "C-1", "survey_id": "S-1", "item": "nps", "answer": 9, "answered_at": "2025-03-06T09:00:00Z", "comment": "Dr Quill was great"},
			{"response_id": "R-2", "contact_id": "C-2", "survey_id": "S-1", "item": "nps", "answer": 11, "answered_at": "2025-03-06T09:00:00Z"},
		},
		"consents": {
			{"consent_id": "K-1", "contact_id": "C-2", "channel": "email", "status": "opt_out", "effective_at": "2025-02-01T00:00:00Z"},
		},
	}
}

// The REST pull through a CRM that throttles and fails now and then: every
// record is loaded or quarantined, a run that dies mid-way keeps its
// committed pages and the next resumes from there, and the end state equals
// an uninterrupted pull's.
func TestRESTJobResumesAndReconciles(t *testing.T) {
	ctx := context.Background()
	data := restFixture()
	data["messages"] = append(data["messages"], resttest.Raw(`"not an object"`), resttest.Raw(`{"message_id":"M-6","contact_id":"C-1","purpose":"education","channel":{"x":1},"sent_at":"2025-03-05T12:00:00Z"}`))
	srv := resttest.NewServer(data, resttest.Options{Token: "t0k", ThrottleEvery: 4, FailEvery: 7})
	defer srv.Close()
	cut := &cutOff{path: "/messages", after: 2, base: http.DefaultTransport}
	client, err := rest.New(rest.Config{BaseURL: srv.URL, Token: "t0k", PageSize: 2, MaxRetries: 3, HTTPClient: &http.Client{Transport: cut},
		Sleep: func(ctx context.Context, d time.Duration) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	db := openTestDB(t)
	v, _ := deid.OpenEncrypted(filepath.Join(t.TempDir(), "vault"), testVaultKey)
	job := NewRESTJob(RESTOptions{Source: "crm-test", Client: client, DB: db, Vault: v, Profile: deid.ProfileLimited})

	// First run: the CRM goes down for good once it has served the
	// messages' second page.
	cut.down = true
	res1, err := job.Run(ctx)
	if err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("the first run should fail with the 503s: %v", err)
	}
	cut.down = false
	if res1.Status != "failed" || res1.SnapshotID == 0 {
		t.Errorf("a failed run that committed pages: status %s snapshot %d", res1.Status, res1.SnapshotID)
	}
	pos := queryStrings(t, db, `SELECT entity || ' ' || (cursor IS NOT NULL) || ' ' || (watermark IS NOT NULL) FROM crm_sync ORDER BY entity`)
	if want := "[campaigns false true contacts false true messages true false]"; fmt.Sprint(pos) != want {
		t.Errorf("crm_sync after the failure: %v, want %s", pos, want)
	}
	// The second run resumes messages where the first stopped.
	res2, err := job.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]string{}
	for _, r := range []*Result{res1, res2} {
		for _, c := range r.Counts {
			if c.Read+c.Quarantined > 0 {
				counts[c.Entity] += fmt.Sprintf("%d=%d+%d;", c.Read, c.Loaded, c.Quarantined)
			}
		}
	}
	// contacts 3, campaigns 1 in run 1 (and nothing new in run 2: the
	// watermark filter, since contacts have updated_at; campaigns have none
	// and come again). messages: 7 records, pages of 2: run 1 committed
	// pages 1-2 (M-1..M-4, M-4's contact unknown), run 2 pages 3-4 (M-5,
	// two malformed records).
	want := map[string]string{
		"contacts": "3=3+0;", "campaigns": "1=1+0;1=1+0;", "messages": "4=3+1;3=1+2;",
		"message_events": "4=4+0;", "survey_responses": "2=1+1;", "consents": "1=1+0;",
	}
	if fmt.Sprint(counts) != fmt.Sprint(want) {
		t.Errorf("counts\n got %v\nwant %v", counts, want)
	}
	q := queryStrings(t, db, `SELECT file || ':' || line || ': ' || reason FROM quarantine ORDER BY file, line`)
	// Positions count records within each run's pull of the entity.
	wantQ := "[rest:messages:2: record is not a JSON object rest:messages:3: field channel: not a scalar value " +
		"rest:messages:4: contact_id: not a known contact rest:survey_responses:2: answer: not an integer in 0..10]"
	if fmt.Sprint(q) != wantQ {
		t.Errorf("quarantine\n got %v\nwant %s", q, wantQ)
	}
	got := queryStrings(t, db, `SELECT purpose || ' ' || status || ' ' || coalesce(strftime(delivered_at, '%H:%M'), '-') FROM outreach_messages ORDER BY sent_at, purpose`)
	if want := "[preventive_care opened 10:01 refill_reminder delivered 11:02 lab_result failed - education sent -]"; fmt.Sprint(got) != want {
		t.Errorf("messages %v, want %s", got, want)
	}
	if srv.Counts().Throttled == 0 || srv.Counts().Failed == 0 {
		t.Errorf("the fake CRM injected no faults: %+v", srv.Counts())
	}
	if leaks := ScanForStrings(t, db, []string{"Oriel", "617-555-0101", "Dr Quill", "C-1", "M-1"}); len(leaks) > 0 {
		t.Errorf("leaks: %v", leaks)
	}

	// Third run, incremental: one contact changed since; only it comes back.
	before := tableCounts(t, db)
	data["contacts"][1]["language"] = "fr"
	data["contacts"][1]["updated_at"] = time.Now().UTC().Add(time.Hour).Format(time.RFC3339)
	srv.Set("contacts", data["contacts"])
	res3, err := job.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range res3.Counts {
		if c.Entity == "contacts" && c.Read != 1 {
			t.Errorf("incremental contacts read %d, want 1", c.Read)
		}
	}
	if got := queryStrings(t, db, `SELECT string_agg(language, ',' ORDER BY language) FROM contacts`); fmt.Sprint(got) != "[en,es,fr]" {
		t.Errorf("languages after the update: %v", got)
	}
	if after := tableCounts(t, db); after["outreach_messages"] != before["outreach_messages"] || after["message_events"] != before["message_events"] {
		t.Errorf("an incremental run changed row counts: %v -> %v", before, after)
	}
}

// cutOff is a transport that, once it has passed `after` successful
// responses for path, answers 503 to everything while down is set.
type cutOff struct {
	path  string
	after int
	ok    int
	down  bool
	base  http.RoundTripper
}

func (c *cutOff) RoundTrip(r *http.Request) (*http.Response, error) {
	if c.down && c.ok >= c.after {
		return &http.Response{StatusCode: 503, Status: "503 Service Unavailable", Body: io.NopCloser(strings.NewReader("down")),
			Header: http.Header{}, Request: r}, nil
	}
	resp, err := c.base.RoundTrip(r)
	if err == nil && resp.StatusCode == 200 && r.URL.Path == c.path {
		c.ok++
	}
	return resp, err
}
