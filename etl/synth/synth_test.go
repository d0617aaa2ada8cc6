package synth

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func date(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

// The shared population most tests read: generated once, checked many ways.
var (
	fixtureDir   string
	fixtureTruth *Truth
)

const fixturePatients = 3000

// fixtureOptions are the fixture's options without OutDir.
func fixtureOptions() Options {
	return Options{Patients: fixturePatients, Seed: 42, From: date("2024-01-01"), To: date("2025-12-31")}
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "synth-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fixtureDir = dir
	opt := fixtureOptions()
	opt.OutDir = dir
	fixtureTruth, err = Generate(context.Background(), opt)
	if err != nil {
		fmt.Fprintln(os.Stderr, "generate fixture:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// readLines returns the lines of a file (without newlines).
func readLines(t testing.TB, path string) [][]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) == 0 {
		return nil
	}
	if data[len(data)-1] != '\n' {
		t.Fatalf("%s: does not end with a newline", path)
	}
	return bytes.Split(data[:len(data)-1], []byte{'\n'})
}

// readCSV returns a CSV file's header and rows; rows with a field count other
// than the header's are returned separately.
func readCSV(t testing.TB, path string) (header []string, rows []map[string]string, bad int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(bufio.NewReader(f))
	r.FieldsPerRecord = -1
	header, err = r.Read()
	if err != nil {
		t.Fatalf("%s: header: %v", path, err)
	}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if len(rec) != len(header) {
			bad++
			continue
		}
		row := make(map[string]string, len(header))
		for i, h := range header {
			row[h] = rec[i]
		}
		rows = append(rows, row)
	}
	return header, rows, bad
}

func sameFiles(t *testing.T, a, b string) (same bool, diff string) {
	t.Helper()
	for _, name := range append(fileNames[:], "ehr/manifest.json", "truth.json") {
		x, err := os.ReadFile(filepath.Join(a, name))
		if err != nil {
			t.Fatal(err)
		}
		y, err := os.ReadFile(filepath.Join(b, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(x, y) {
			return false, name
		}
	}
	return true, ""
}

func TestDeterministic(t *testing.T) {
	opt := Options{Patients: 700, Seed: 7, From: date("2025-01-01"), To: date("2025-12-31")}
	run := func(seed int64, workers int) string {
		o := opt
		o.Seed, o.Workers, o.OutDir = seed, workers, t.TempDir()
		if _, err := Generate(context.Background(), o); err != nil {
			t.Fatal(err)
		}
		return o.OutDir
	}
	a, b, c := run(7, 1), run(7, 3), run(8, 2)
	if same, name := sameFiles(t, a, b); !same {
		t.Errorf("same seed, different worker counts: %s differs", name)
	}
	x, _ := os.ReadFile(filepath.Join(a, "ehr/Patient.000.ndjson"))
	y, _ := os.ReadFile(filepath.Join(c, "ehr/Patient.000.ndjson"))
	if bytes.Equal(x, y) {
		t.Error("different seeds gave the same patients")
	}
	// Leftovers: only ehr/, crm/ and truth.json, no temporary folder.
	entries, _ := os.ReadDir(a)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{"crm", "ehr", "truth.json"}; !slices.Equal(names, want) {
		t.Errorf("output folder holds %v, want %v", names, want)
	}
}

// TestRegenerateReplaces: a second run into the same folder replaces the first.
func TestRegenerateReplaces(t *testing.T) {
	dir := t.TempDir()
	opt := Options{Patients: 50, Seed: 1, From: date("2025-01-01"), To: date("2025-06-30"), OutDir: dir}
	if _, err := Generate(context.Background(), opt); err != nil {
		t.Fatal(err)
	}
	opt.Patients = 60
	tr, err := Generate(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(readLines(t, filepath.Join(dir, "ehr/Patient.000.ndjson"))); n != 60 || tr.Counts["Patient"] != 60 {
		t.Errorf("second run: %d patients in file, truth %d, want 60", n, tr.Counts["Patient"])
	}
}

var contractColumns = map[string][]string{
	"crm/contacts.csv": {"contact_id", "mrn", "first_name", "last_name", "email", "phone", "preferred_channel",
		"sms_opt_out", "email_opt_out", "voice_opt_out", "portal_enrolled", "language", "created_at", "updated_at"},
	"crm/campaigns.csv": {"campaign_id", "name", "purpose", "channel", "start_date", "end_date"},
	"crm/messages.csv": {"message_id", "contact_id", "campaign_id", "purpose", "channel", "body", "sent_at",
		"delivered_at", "opened_at", "replied_at", "failed_at", "failure_reason"},
	"crm/survey_responses.csv": {"response_id", "contact_id", "survey_id", "campaign_id", "item", "answer", "comment", "answered_at"},
	"crm/message_events.csv":   {"event_id", "message_id", "event", "occurred_at"},
	"crm/consents.csv":         {"consent_id", "contact_id", "channel", "status", "effective_at"},
}

// collectRefs appends every Reference.reference string inside v.
func collectRefs(v any, out []string) []string {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if s, ok := e.(string); ok && k == "reference" {
				out = append(out, s)
			} else {
				out = collectRefs(e, out)
			}
		}
	case []any:
		for _, e := range x {
			out = collectRefs(e, out)
		}
	}
	return out
}

func TestFHIRExportIsConsistent(t *testing.T) {
	ids := map[string]bool{} // "Type/id"
	var refs []string
	var refFrom []string
	counts := map[string]int{}
	for f := 0; f < nFHIR; f++ {
		typ := fileKeys[f]
		for i, line := range readLines(t, filepath.Join(fixtureDir, fileNames[f])) {
			var res map[string]any
			if err := json.Unmarshal(line, &res); err != nil {
				t.Fatalf("%s:%d: %v", fileNames[f], i+1, err)
			}
			if res["resourceType"] != typ {
				t.Fatalf("%s:%d: resourceType %v", fileNames[f], i+1, res["resourceType"])
			}
			id, _ := res["id"].(string)
			key := typ + "/" + id
			if id == "" || ids[key] {
				t.Fatalf("%s:%d: empty or duplicate id %q", fileNames[f], i+1, id)
			}
			ids[key] = true
			for _, r := range collectRefs(res, nil) {
				refs = append(refs, r)
				refFrom = append(refFrom, key)
			}
			counts[typ]++
		}
	}
	for i, r := range refs {
		if !ids[r] {
			t.Fatalf("%s refers to %s, which was not written", refFrom[i], r)
		}
	}
	if len(refs) < fixturePatients*5 {
		t.Errorf("only %d references checked", len(refs))
	}

	var m manifest
	raw, err := os.ReadFile(filepath.Join(fixtureDir, "ehr/manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	if m.TransactionTime != "2025-12-31T23:59:59Z" || m.RequiresAccessToken || m.Error == nil || len(m.Output) != nFHIR {
		t.Errorf("manifest header wrong: %+v", m)
	}
	if !strings.HasPrefix(m.Request, "https://ehr.example.org/fhir/$export?_type=Patient,") {
		t.Errorf("manifest request %q", m.Request)
	}
	for _, o := range m.Output {
		if o.URL != o.Type+".000.ndjson" {
			t.Errorf("manifest url %q for %s", o.URL, o.Type)
		}
		if o.Count != counts[o.Type] || o.Count != fixtureTruth.Counts[o.Type] {
			t.Errorf("%s: manifest count %d, truth %d, lines %d", o.Type, o.Count, fixtureTruth.Counts[o.Type], counts[o.Type])
		}
	}
	if counts["Patient"] != fixturePatients {
		t.Errorf("%d patients written, want %d", counts["Patient"], fixturePatients)
	}
}

// patientMRNs maps MRN to Patient id.
func patientMRNs(t testing.TB, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, line := range readLines(t, filepath.Join(dir, "ehr/Patient.000.ndjson")) {
		var p struct {
			ID         string `json:"id"`
			Identifier []struct {
				Type struct {
					Coding []struct{ Code string } `json:"coding"`
				} `json:"type"`
				Value string `json:"value"`
			} `json:"identifier"`
		}
		if err := json.Unmarshal(line, &p); err != nil {
			t.Fatal(err)
		}
		for _, id := range p.Identifier {
			if len(id.Type.Coding) > 0 && id.Type.Coding[0].Code == "MR" {
				out[id.Value] = p.ID
			}
		}
	}
	return out
}

func TestCRMExportFollowsContract(t *testing.T) {
	parse := func(s string) time.Time {
		if s == "" {
			return time.Time{}
		}
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatalf("bad timestamp %q", s)
		}
		return v
	}
	export := date("2025-12-31").Add(24*time.Hour - time.Second)
	tables := map[string][]map[string]string{}
	for file, want := range contractColumns {
		header, rows, bad := readCSV(t, filepath.Join(fixtureDir, file))
		if !slices.Equal(header, want) {
			t.Errorf("%s: header %v, want %v", file, header, want)
		}
		if bad != 0 {
			t.Errorf("%s: %d rows with the wrong field count", file, bad)
		}
		key := strings.TrimSuffix(filepath.Base(file), ".csv")
		if len(rows) != fixtureTruth.Counts[key] || len(rows) == 0 {
			t.Errorf("%s: %d rows, truth counts %d", file, len(rows), fixtureTruth.Counts[key])
		}
		tables[key] = rows
	}

	mrns := patientMRNs(t, fixtureDir)
	contacts := map[string]bool{}
	linked, unmatched := 0, 0
	for _, c := range tables["contacts"] {
		if contacts[c["contact_id"]] {
			t.Fatalf("duplicate contact %s", c["contact_id"])
		}
		contacts[c["contact_id"]] = true
		if _, ok := mrns[c["mrn"]]; ok {
			linked++
		} else {
			unmatched++
		}
		if !contractChannels[c["preferred_channel"]] || c["language"] == "" {
			t.Errorf("contact %s: preferred_channel %q language %q", c["contact_id"], c["preferred_channel"], c["language"])
		}
	}
	if unmatched != fixtureTruth.UnmatchedContacts || unmatched == 0 {
		t.Errorf("%d contacts match no patient, truth says %d", unmatched, fixtureTruth.UnmatchedContacts)
	}
	if share := float64(linked) / fixturePatients; share < 0.88 || share > 0.96 {
		t.Errorf("%.3f of patients have a contact, want about 0.92", share)
	}

	campaigns := map[string]string{}
	purposesSeen, channelsSeen := map[string]bool{}, map[string]bool{}
	for _, c := range tables["campaigns"] {
		campaigns[c["campaign_id"]] = c["purpose"]
		purposesSeen[c["purpose"]], channelsSeen[c["channel"]] = true, true
	}
	if len(purposesSeen) != len(contractPurposes) || len(channelsSeen) != len(contractChannels) {
		t.Errorf("campaigns cover purposes %v and channels %v", purposesSeen, channelsSeen)
	}

	msgIDs := map[string]bool{}
	statuses := map[string]int{}
	_, merged, _ := readMessages(t, fixtureDir)
	for _, m := range tables["messages"] {
		if msgIDs[m["message_id"]] {
			t.Fatalf("duplicate message id %s", m["message_id"])
		}
		msgIDs[m["message_id"]] = true
		if !contacts[m["contact_id"]] || campaigns[m["campaign_id"]] != m["purpose"] || !contractChannels[m["channel"]] {
			t.Fatalf("message %v: unknown contact, campaign or channel", m)
		}
		sent := parse(m["sent_at"])
		if sent.After(export) {
			t.Fatalf("message %s sent after the export", m["message_id"])
		}
		// the states from the message's columns and its events
		at := merged[m["message_id"]].at
		status := "sent"
		for k, ts := range at {
			if ts.IsZero() {
				continue
			}
			if ts.Before(sent) || ts.After(export) {
				t.Fatalf("message %s: %s %v outside sent..export", m["message_id"], stateCols[k], ts)
			}
			if k > evDelivered && k < evFailed && (at[k-1].IsZero() || ts.Before(at[k-1])) {
				t.Fatalf("message %s: %s %v without an earlier %s", m["message_id"], stateCols[k], ts, stateCols[k-1])
			}
			status = strings.TrimSuffix(stateCols[k], "_at")
		}
		if !at[evFailed].IsZero() && !at[evDelivered].IsZero() {
			t.Fatalf("message %s both delivered and failed", m["message_id"])
		}
		statuses[m["purpose"]+"/"+status]++
	}
	for p := range contractPurposes {
		if statuses[p+"/delivered"]+statuses[p+"/opened"]+statuses[p+"/replied"] == 0 {
			t.Errorf("no delivered %s message", p)
		}
	}
	for _, s := range tables["survey_responses"] {
		rng, ok := contractItems[s["item"]]
		var answer int
		fmt.Sscan(s["answer"], &answer)
		if !ok || answer < rng[0] || answer > rng[1] || !contacts[s["contact_id"]] || parse(s["answered_at"]).After(export) {
			t.Fatalf("bad survey response %v", s)
		}
	}
}

// The contract's codes, as the CRM mapper checks them.
var (
	contractChannels = map[string]bool{"sms": true, "email": true, "voice": true, "portal": true}
	contractPurposes = map[string]bool{"appointment_reminder": true, "refill_reminder": true, "preventive_care": true, "lab_result": true, "education": true, "survey": true}
	contractItems    = map[string][2]int{"nps": {0, 10}, "cahps_rating": {0, 10}, "cahps_explain": {1, 4}, "cahps_listen": {1, 4}, "cahps_respect": {1, 4}, "cahps_time": {1, 4}}
)

func TestCorruptEvery(t *testing.T) {
	dir := t.TempDir()
	const every = 7
	tr, err := Generate(context.Background(), Options{
		Patients: 400, Seed: 3, From: date("2025-01-01"), To: date("2025-12-31"), OutDir: dir, CorruptEvery: every,
	})
	if err != nil {
		t.Fatal(err)
	}
	for f := 0; f < nFiles; f++ {
		path := filepath.Join(dir, fileNames[f])
		var bad, total int
		if f < nFHIR {
			for _, line := range readLines(t, path) {
				total++
				var v map[string]any
				if json.Unmarshal(line, &v) != nil {
					bad++
				}
			}
		} else {
			_, rows, b := readCSV(t, path)
			bad, total = b, len(rows)+b
		}
		if total != tr.Counts[fileKeys[f]] {
			t.Errorf("%s: %d lines, truth counts %d", fileNames[f], total, tr.Counts[fileKeys[f]])
		}
		want := 0
		if corruptible[f] {
			want = total / every
			if tr.Corrupted[fileNames[f]] != want {
				t.Errorf("%s: truth records %d corrupted, want %d", fileNames[f], tr.Corrupted[fileNames[f]], want)
			}
		}
		if bad != want {
			t.Errorf("%s: %d malformed lines, want %d", fileNames[f], bad, want)
		}
		if corruptible[f] && want < 20 {
			t.Errorf("%s: only %d corrupted lines: test too small", fileNames[f], want)
		}
	}
	if len(tr.Corrupted) != 4 {
		t.Errorf("corrupted lists %v, want the four corruptible files", tr.Corrupted)
	}
}

func TestInvalidOptions(t *testing.T) {
	ok := Options{Patients: 10, From: date("2025-01-01"), To: date("2025-12-31"), OutDir: t.TempDir()}
	tests := []struct {
		name string
		edit func(*Options)
	}{
		{"no patients", func(o *Options) { o.Patients = 0 }},
		{"too many patients", func(o *Options) { o.Patients = MaxPatients + 1 }},
		{"no out dir", func(o *Options) { o.OutDir = "" }},
		{"to before from", func(o *Options) { o.From, o.To = o.To, o.From }},
		{"window too short", func(o *Options) { o.To = o.From.AddDate(0, 0, 10) }},
		{"negative corruption", func(o *Options) { o.CorruptEvery = -1 }},
		{"negative workers", func(o *Options) { o.Workers = -2 }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := ok
			tc.edit(&o)
			if _, err := Generate(context.Background(), o); !errors.Is(err, ErrInvalidOptions) {
				t.Errorf("got %v, want ErrInvalidOptions", err)
			}
		})
	}
}

func TestCancelledLeavesNoManifest(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	progress := func(done int) {
		if done >= 2*chunkSize {
			cancel()
		}
	}
	_, err := Generate(ctx, Options{Patients: 50 * chunkSize, Seed: 1, From: date("2025-01-01"), To: date("2025-12-31"),
		OutDir: dir, Workers: 2, Progress: progress})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		t.Errorf("a cancelled run left %d entries in the output folder", len(entries))
	}
}

func TestProgressReachesTotal(t *testing.T) {
	var last, calls int
	_, err := Generate(context.Background(), Options{Patients: 3*chunkSize + 17, From: date("2025-01-01"), To: date("2025-03-31"),
		OutDir: t.TempDir(), Progress: func(done int) {
			if done <= last {
				t.Errorf("progress went from %d to %d", last, done)
			}
			last = done
			calls++
		}})
	if err != nil {
		t.Fatal(err)
	}
	if last != 3*chunkSize+17 || calls != 4 {
		t.Errorf("progress ended at %d after %d calls", last, calls)
	}
}
