package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/carelens/carelens/internal/config"
	"github.com/carelens/carelens/internal/store"
)

// TestEndToEnd runs gen → etl run → HTTP API on a small population and checks
// the no-show rate against the value computed straight from the generated
// files, the suppression of small cells, and that no direct identifier of
// the identified sources reached the warehouse or the logs.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test skipped in -short mode")
	}
	ctx := context.Background()
	dir := t.TempDir()
	src, dbPath, vault := filepath.Join(dir, "src"), filepath.Join(dir, "w.duckdb"), filepath.Join(dir, "v.vault")
	var logs bytes.Buffer
	e := &env{stdout: io.Discard, stderr: &logs, environ: []string{"CARELENS_LOG_LEVEL=debug", "CARELENS_VAULT_KEY=" + testVaultKeyHex}}

	if code := run(ctx, []string{"gen", "--patients", "4000", "--seed", "11", "--from", "2024-07-01", "--to", "2025-06-30", "--out", src}, e); code != 0 {
		t.Fatalf("gen exited %d: %s", code, logs.String())
	}
	var out bytes.Buffer
	e.stdout = &out
	if code := run(ctx, []string{"etl", "run", "--dir", src, "--db", dbPath, "--vault", vault, "--json"}, e); code != 0 {
		t.Fatalf("etl run exited %d: %s", code, logs.String())
	}
	var res struct {
		Status          string
		SnapshotID      int64 `json:"snapshot_id"`
		RowsRead        int64 `json:"rows_read"`
		RowsLoaded      int64 `json:"rows_loaded"`
		RowsQuarantined int64 `json:"rows_quarantined"`
	}
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("etl run --json: %v\n%s", err, out.String())
	}
	if res.Status != "succeeded" || res.SnapshotID != 1 || res.RowsRead == 0 || res.RowsRead != res.RowsLoaded+res.RowsQuarantined {
		t.Fatalf("etl result %+v", res)
	}

	wh, err := store.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer wh.Close()
	c := config.Default()
	c.AuditLog = filepath.Join(dir, "audit.log")
	h, _, err := newHandler(ctx, c, wh, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	from, to := time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC)
	want := noShowFromFiles(t, src, from, to)
	if len(want) < 50 {
		t.Fatalf("only %d month×clinic cells generated; the test needs more", len(want))
	}
	got := getNoShow(t, srv.URL+"/api/v1/metrics/no_show_rate?from=2024-07-01&to=2025-06-30&by=month,clinic", "clinic")
	checkCells(t, "month×clinic", want, got, 40)

	// All clinics together: one cell per month.
	wantMonth := map[[2]string]cell{}
	for k, v := range want {
		m := wantMonth[[2]string{k[0], ""}]
		m.num += v.num
		m.den += v.den
		wantMonth[[2]string{k[0], ""}] = m
	}
	checkCells(t, "month", wantMonth, getNoShow(t, srv.URL+"/api/v1/metrics/no_show_rate?from=2024-07-01&to=2025-06-30&by=month", ""), 12)

	// Privacy: no direct identifier anywhere in the warehouse, or in the logs.
	exact, names := identifiers(t, src)
	if len(exact) < 4000*3 || len(names) < 100 {
		t.Fatalf("collected only %d identifiers and %d names", len(exact), len(names))
	}
	nameSet := map[string]bool{}
	for _, n := range names {
		nameSet[n] = true
	}
	idx := newNeedles(exact)
	if _, ok := idx.in("x" + exact[0] + "y"); !ok {
		t.Fatal("needle index misses an embedded identifier")
	}
	scan := func() []string {
		var leaks []string
		err := wh.EachText(ctx, func(table, column, v string) {
			if _, ok := idx.in(v); ok {
				leaks = append(leaks, fmt.Sprintf("%s.%s holds an identifier", table, column))
			}
			for _, w := range words(v) {
				if nameSet[w] {
					leaks = append(leaks, fmt.Sprintf("%s.%s holds a name", table, column))
				}
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		return leaks
	}
	if leaks := scan(); len(leaks) > 0 {
		t.Errorf("%d identifier leaks, first: %v", len(leaks), leaks[0])
	}
	// The scan must be able to fail: plant an identifier and a name.
	if _, err := wh.Exec(`CREATE TABLE planted AS SELECT ? AS a, ? AS b`, "note: "+exact[len(exact)/2]+".", "Dear "+names[0]+","); err != nil {
		t.Fatal(err)
	}
	if leaks := scan(); len(leaks) != 2 {
		t.Errorf("planted identifier and name: scan found %v", leaks)
	}
	wh.Exec(`DROP TABLE planted`)
	if _, ok := idx.in(logs.String()); ok {
		t.Errorf("an identifier appears in the logs")
	}

	// The raw database file, too (long identifiers only: short strings can
	// occur by chance in compressed pages).
	if _, err := wh.Exec("CHECKPOINT"); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	var long []string
	for _, id := range exact {
		if len(id) >= 10 {
			long = append(long, id)
		}
	}
	if id, ok := newNeedles(long).in(string(raw)); ok {
		t.Errorf("an identifier (%d bytes) is in the database file", len(id))
	}
}

type apiRow map[string]any

func getNoShow(t *testing.T, url, dim string) map[[2]string]apiRow {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, body)
	}
	var doc struct {
		SnapshotID int64    `json:"snapshot_id"`
		Version    int      `json:"version"`
		Rows       []apiRow `json:"rows"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.SnapshotID != 1 || doc.Version < 1 {
		t.Errorf("snapshot_id %d version %d", doc.SnapshotID, doc.Version)
	}
	out := map[[2]string]apiRow{}
	for _, r := range doc.Rows {
		k := [2]string{r["period"].(string), ""}
		if dim != "" {
			k[1], _ = r[dim].(string)
		}
		out[k] = r
	}
	return out
}

// checkCells compares API rows with the independent counts: every cell
// present; visible numbers exact; a cell with a count of 1–10 suppressed.
func checkCells(t *testing.T, what string, want map[[2]string]cell, got map[[2]string]apiRow, minShown int) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: API has %d cells, files give %d", what, len(got), len(want))
	}
	small := func(n int) bool { return n >= 1 && n <= 10 }
	var shown, hidden int
	for k, w := range want {
		r, ok := got[k]
		if !ok {
			t.Errorf("%s %v: missing from the API", what, k)
			continue
		}
		num, numOK := r["numerator"].(float64)
		den, denOK := r["denominator"].(float64)
		if (small(w.num) || small(w.den)) && (numOK || r["suppressed"] != true) {
			t.Errorf("%s %v: %d/%d shown, must be suppressed", what, k, w.num, w.den)
		}
		if numOK {
			shown++
			if int(num) != w.num {
				t.Errorf("%s %v: numerator %v, files give %d", what, k, num, w.num)
			}
			if v, _ := r["value"].(float64); w.den > 0 && fmt.Sprintf("%.6f", v) != fmt.Sprintf("%.6f", float64(w.num)/float64(w.den)) {
				t.Errorf("%s %v: value %v, files give %d/%d", what, k, v, w.num, w.den)
			}
		} else {
			hidden++
		}
		if denOK && int(den) != w.den {
			t.Errorf("%s %v: denominator %v, files give %d", what, k, den, w.den)
		}
	}
	if shown < minShown {
		t.Errorf("%s: only %d of %d cells shown; too few were compared", what, shown, len(want))
	}
	t.Logf("%s: %d cells shown and matched, %d suppressed", what, shown, hidden)
}
