package etl

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/carelens/carelens/etl/deid"
	"github.com/carelens/carelens/etl/fhir/bulk"
)

// bulkServer is a minimal Bulk Data server: each kick-off completes at once
// with the next prepared manifest, whose files it serves from testdata.
type bulkServer struct {
	mu      sync.Mutex
	exports []map[string]any // manifests to hand out, in order
	files   map[string]string
	sinces  []string // _since of each kick-off ("" when absent)
}

func (s *bulkServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case r.URL.Path == "/fhir/$export" && r.Method == http.MethodGet:
		s.sinces = append(s.sinces, r.URL.Query().Get("_since"))
		w.Header().Set("Content-Location", fmt.Sprintf("http://%s/status/%d", r.Host, len(s.sinces)-1))
		w.WriteHeader(http.StatusAccepted)
	case len(r.URL.Path) > 8 && r.URL.Path[:8] == "/status/":
		if r.Method == http.MethodDelete {
			w.WriteHeader(http.StatusAccepted)
			return
		}
		var i int
		fmt.Sscanf(r.URL.Path, "/status/%d", &i)
		m := s.exports[i]
		m["request"] = "http://" + r.Host + "/fhir/$export"
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(m)
	case len(r.URL.Path) > 7 && r.URL.Path[:7] == "/files/":
		p, ok := s.files[r.URL.Path[7:]]
		if !ok {
			http.NotFound(w, r)
			return
		}
		b, _ := os.ReadFile(p)
		w.Header().Set("Content-Type", "application/fhir+ndjson")
		w.Write(b)
	default:
		http.NotFound(w, r)
	}
}

func TestBulkJobIncremental(t *testing.T) {
	s := &bulkServer{files: map[string]string{
		"p":  "testdata/mini/ehr/Patient.000.ndjson",
		"a":  "testdata/mini/ehr/Appointment.000.ndjson",
		"a2": "testdata/mini-incr/ehr/Appointment.000.ndjson",
		"d":  "testdata/mini-incr/ehr/deleted/Bundle.000.ndjson",
	}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	file := func(typ, name string) map[string]any {
		return map[string]any{"type": typ, "url": srv.URL + "/files/" + name}
	}
	s.exports = []map[string]any{
		{"transactionTime": "2025-12-31T23:59:59Z", "requiresAccessToken": false,
			"output": []any{file("Patient", "p"), file("Appointment", "a")}, "error": []any{}},
		{"transactionTime": "2026-01-31T23:59:59Z", "requiresAccessToken": false,
			"output": []any{file("Appointment", "a2")}, "deleted": []any{file("Bundle", "d")}, "error": []any{}},
	}
	client, err := bulk.New(bulk.Options{BaseURL: srv.URL + "/fhir", PollMin: time.Millisecond, PollMax: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	db := openTestDB(t)
	v, _ := deid.OpenEncrypted(filepath.Join(t.TempDir(), "vault"), testVaultKey)
	staging := t.TempDir()
	job := NewBulkJob(BulkOptions{Name: "test-ehr", Client: client, Request: bulk.Request{Level: bulk.System, Types: []string{"Patient", "Appointment"}},
		StagingDir: staging, DB: db, Vault: v, Profile: deid.ProfileLimited})

	res, err := job.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Job != "bulk:test-ehr" || res.SnapshotID != 1 {
		t.Fatalf("first run: job %q snapshot %d", res.Job, res.SnapshotID)
	}
	if wm, _ := job.Watermark(context.Background()); !wm.Equal(time.Date(2025, 12, 31, 23, 59, 59, 0, time.UTC)) {
		t.Fatalf("watermark after first run: %v", wm)
	}
	if _, err := job.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(s.sinces) != "[ 2025-12-31T23:59:59Z]" {
		t.Errorf("_since sent: %q, want none then the first transactionTime", s.sinces)
	}
	if st := queryStrings(t, db, `SELECT status FROM appointments ORDER BY start_ts`); fmt.Sprint(st) != "[noshow fulfilled]" {
		t.Errorf("appointments after the incremental export: %v", st)
	}
	if n := queryStrings(t, db, `SELECT count(*)::VARCHAR FROM patients`); fmt.Sprint(n) != "[1]" {
		t.Errorf("patients after deleting pat-b: %v", n)
	}
	if left, _ := os.ReadDir(staging); len(left) != 0 {
		t.Errorf("staging folder not cleaned: %d entries", len(left))
	}
}

// An incremental export in which nothing changed commits an empty run and
// moves the watermark on.
func TestBulkJobNothingChanged(t *testing.T) {
	s := &bulkServer{exports: []map[string]any{{"transactionTime": "2026-02-28T00:00:00Z", "requiresAccessToken": false, "output": []any{}, "error": []any{}}}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	client, _ := bulk.New(bulk.Options{BaseURL: srv.URL + "/fhir", PollMin: time.Millisecond, PollMax: 10 * time.Millisecond})
	db := openTestDB(t)
	v, _ := deid.OpenEncrypted(filepath.Join(t.TempDir(), "vault"), testVaultKey)
	job := NewBulkJob(BulkOptions{Name: "quiet", Client: client, StagingDir: t.TempDir(), DB: db, Vault: v, Profile: deid.ProfileLimited})
	res, err := job.Run(context.Background())
	if err != nil || res.Read != 0 || res.SnapshotID != 1 {
		t.Fatalf("empty incremental export: %v, %+v", err, res)
	}
	if wm, _ := job.Watermark(context.Background()); !wm.Equal(time.Date(2026, 2, 28, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("watermark %v", wm)
	}
}
