package synth

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

// goldenOptions: a population whose files, without canaries, are pinned by
// testdata/plain.sha256 (made by the generator before canaries existed).
func goldenOptions(dir string) Options {
	return Options{Patients: 400, Seed: 11, From: date("2024-07-01"), To: date("2025-06-30"), OutDir: dir, CorruptEvery: 37}
}

// hashTree returns "sha256  ./path" lines (sha256sum's format) for every
// file under dir, sorted by path.
func hashTree(t *testing.T, dir string) string {
	t.Helper()
	var lines []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		sum := sha256.Sum256(b)
		lines = append(lines, hex.EncodeToString(sum[:])+"  ./"+filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(lines, func(i, j int) bool { return lines[i][66:] < lines[j][66:] })
	return strings.Join(lines, "\n") + "\n"
}

// TestPlainOutputUnchanged: without Canaries every file is byte for byte
// what the generator wrote before canaries were added (go test -update
// rewrites the golden after an intended model change, with a new Version).
func TestPlainOutputUnchanged(t *testing.T) {
	dir := t.TempDir()
	if _, err := Generate(context.Background(), goldenOptions(dir)); err != nil {
		t.Fatal(err)
	}
	got := hashTree(t, dir)
	golden := filepath.Join("testdata", "plain.sha256")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("plain output changed:\n%s\nwant:\n%s", got, want)
	}
}

// canaryRun generates a population with canaries.
func canaryRun(t *testing.T, workers int, canaries bool) (dir string, truth *Truth) {
	t.Helper()
	opt := Options{Patients: 1500, Seed: 3, From: date("2024-01-01"), To: date("2025-12-31"),
		Workers: workers, Canaries: canaries, OutDir: t.TempDir()}
	truth, err := Generate(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	return opt.OutDir, truth
}

func TestCanariesDeterministic(t *testing.T) {
	a, _ := canaryRun(t, 1, true)
	b, _ := canaryRun(t, 3, true)
	if ha, hb := hashTree(t, a), hashTree(t, b); ha != hb {
		t.Errorf("canary runs differ with worker count:\n%s\n%s", ha, hb)
	}
}

var (
	canarySSN   = regexp.MustCompile(`^9(0\d|1\d|20)-(0[1-9]|[1-9]\d)-(\d{3}[1-9]|\d{2}[1-9]\d|\d[1-9]\d{2}|[1-9]\d{3})$`)
	canaryPhone = regexp.MustCompile(`^[2-9]9\d-[2-9]\d\d-\d{4}$`)
	canaryEmail = regexp.MustCompile(`^canary\.[0-9a-z]{5}@canary\.invalid$`)
	canaryToken = regexp.MustCompile(`Zcanary[A-Z][0-9a-z]{5}`)
)

// TestCanaries: every identifying field of every Patient and contact is a
// canary of the right form and listed; every listed canary is written;
// none is a prefix of another; the simulation is that of the plain run.
func TestCanaries(t *testing.T) {
	plainDir, pt := canaryRun(t, 0, false)
	dir, ct := canaryRun(t, 0, true)
	if !ct.Canaries || pt.Canaries {
		t.Fatalf("truth canaries: plain %v, canary run %v", pt.Canaries, ct.Canaries)
	}
	raw, err := os.ReadFile(filepath.Join(dir, canaryFile))
	if err != nil {
		t.Fatal(err)
	}
	list := strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
	if len(list) != ct.CanaryCount || len(list) < 10*ct.Patients {
		t.Fatalf("canaries.txt has %d lines, truth says %d, for %d patients", len(list), ct.CanaryCount, ct.Patients)
	}
	listed := map[string]bool{}
	for _, c := range list {
		if listed[c] {
			t.Fatalf("canary %q listed twice", c)
		}
		listed[c] = true
	}
	sorted := slices.Sorted(func(yield func(string) bool) {
		for _, c := range list {
			if !yield(c) {
				return
			}
		}
	})
	for i := 1; i < len(sorted); i++ {
		if strings.HasPrefix(sorted[i], sorted[i-1]) {
			t.Fatalf("canary %q is a prefix of %q", sorted[i-1], sorted[i])
		}
	}
	isCanary := func(what, v string, form *regexp.Regexp) {
		t.Helper()
		if !listed[v] || form != nil && !form.MatchString(v) {
			t.Fatalf("%s %q is not a listed canary of its form", what, v)
		}
	}
	hasToken := func(what, v string, field byte) {
		t.Helper()
		for _, tok := range canaryToken.FindAllString(v, -1) {
			if tok[7] == field && listed[tok] {
				return
			}
		}
		t.Fatalf("%s %q holds no listed Zcanary%c token", what, v, field)
	}

	// The simulation is unchanged: same counts, statuses, unmatched
	// contacts, and the files without identifiers are identical.
	if fmt.Sprint(pt.Counts, pt.AppointmentStatuses, pt.UnmatchedContacts) != fmt.Sprint(ct.Counts, ct.AppointmentStatuses, ct.UnmatchedContacts) {
		t.Errorf("canaries changed the simulation: %v / %v", pt.Counts, ct.Counts)
	}
	for _, f := range []string{"crm/message_events.csv", "crm/campaigns.csv", "ehr/Organization.000.ndjson", "ehr/manifest.json"} {
		a, _ := os.ReadFile(filepath.Join(plainDir, f))
		b, _ := os.ReadFile(filepath.Join(dir, f))
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between the plain and the canary run", f)
		}
	}

	// Patients.
	mrns := map[string]bool{}
	for _, line := range readLines(t, filepath.Join(dir, "ehr/Patient.000.ndjson")) {
		var p struct {
			ID         string
			Identifier []struct {
				Type  struct{ Coding []struct{ Code string } }
				Value string
			}
			Name []struct {
				Family string
				Given  []string
			}
			Telecom []struct{ System, Value string }
			Address []struct {
				Line       []string
				City       string
				State      string
				PostalCode string
			}
		}
		if err := json.Unmarshal(line, &p); err != nil {
			t.Fatal(err)
		}
		isCanary("Patient.id", p.ID, regexp.MustCompile(`^ZcanaryP[0-9a-z]{5}$`))
		for _, id := range p.Identifier {
			switch id.Type.Coding[0].Code {
			case "MR":
				isCanary("MRN", id.Value, regexp.MustCompile(`^ZcanaryR`))
				mrns[id.Value] = true
			case "SS":
				isCanary("SSN", id.Value, canarySSN)
			}
		}
		for _, n := range p.Name {
			isCanary("family", n.Family, regexp.MustCompile(`^ZcanaryF`))
			for i, g := range n.Given {
				isCanary("given", g, regexp.MustCompile([]string{`^ZcanaryG`, `^ZcanaryM`}[min(i, 1)]))
			}
		}
		for _, tc := range p.Telecom {
			isCanary(tc.System, tc.Value, map[string]*regexp.Regexp{"phone": canaryPhone, "email": canaryEmail}[tc.System])
		}
		for _, a := range p.Address {
			hasToken("street line", a.Line[0], 'S')
			isCanary("city", a.City, regexp.MustCompile(`^ZcanaryT`))
		}
	}
	if len(mrns) != ct.Patients {
		t.Errorf("%d distinct MRNs for %d patients", len(mrns), ct.Patients)
	}
	for _, line := range readLines(t, filepath.Join(dir, "ehr/Coverage.000.ndjson")) {
		var c struct{ SubscriberID string }
		json.Unmarshal(line, &c)
		isCanary("subscriberId", c.SubscriberID, regexp.MustCompile(`^ZcanaryH[0-9a-z]{5}-[12]$`))
	}
	// Every other resource id of a patient is a canary record id of the
	// patient's token, unique, and every reference resolves.
	ids := map[string]bool{}
	var refs []string
	recordID := regexp.MustCompile(`^ZcanaryX[0-9a-z]{5}-[0-9a-z]{6}[0-9a-f]{3}-[0-9a-f]{12}$`)
	for f := 0; f < nFHIR; f++ {
		for _, line := range readLines(t, filepath.Join(dir, fileNames[f])) {
			var res map[string]any
			if err := json.Unmarshal(line, &res); err != nil {
				t.Fatal(err)
			}
			id, typ := res["id"].(string), res["resourceType"].(string)
			switch typ {
			case "Organization", "Location", "Patient":
			default:
				if !recordID.MatchString(id) || !listed[id[:13]] {
					t.Fatalf("%s id %q is not a canary record id", typ, id)
				}
			}
			if ids[typ+"/"+id] {
				t.Fatalf("%s/%s written twice", typ, id)
			}
			ids[typ+"/"+id] = true
			refs = collectRefs(res, refs)
		}
	}
	for _, r := range refs {
		if !ids[r] {
			t.Fatalf("reference %s does not resolve", r)
		}
	}

	// CRM: contacts link by their canary MRN exactly as plain contacts do.
	_, contacts, _ := readCSV(t, filepath.Join(dir, "crm/contacts.csv"))
	unmatched := 0
	for _, c := range contacts {
		isCanary("contact_id", c["contact_id"], regexp.MustCompile(`^ZcanaryC`))
		isCanary("contact mrn", c["mrn"], regexp.MustCompile(`^ZcanaryR`))
		isCanary("first_name", c["first_name"], regexp.MustCompile(`^ZcanaryG`))
		isCanary("last_name", c["last_name"], regexp.MustCompile(`^ZcanaryF`))
		isCanary("email", c["email"], canaryEmail)
		isCanary("phone", c["phone"], canaryPhone)
		if !mrns[c["mrn"]] {
			unmatched++
		}
	}
	if unmatched != ct.UnmatchedContacts || unmatched == 0 {
		t.Errorf("%d contacts match no patient, truth says %d", unmatched, ct.UnmatchedContacts)
	}
	_, msgs, _ := readCSV(t, filepath.Join(dir, "crm/messages.csv"))
	for _, m := range msgs {
		isCanary("message contact_id", m["contact_id"], nil)
		hasToken("body", m["body"], 'B')
	}
	_, responses, _ := readCSV(t, filepath.Join(dir, "crm/survey_responses.csv"))
	comments := 0
	for _, r := range responses {
		isCanary("response contact_id", r["contact_id"], nil)
		if r["comment"] != "" {
			hasToken("comment", r["comment"], 'N')
			comments++
		}
	}
	_, consents, _ := readCSV(t, filepath.Join(dir, "crm/consents.csv"))
	for _, k := range consents {
		isCanary("consent contact_id", k["contact_id"], nil)
	}
	if comments == 0 || len(consents) == 0 {
		t.Errorf("%d comments, %d consents: the fixture exercises too little", comments, len(consents))
	}

	// Every listed canary is written, as a whole word.
	written := map[string]bool{}
	for _, f := range fileNames {
		b, _ := os.ReadFile(filepath.Join(dir, f))
		for _, w := range bytes.FieldsFunc(b, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '@' || r == '-')
		}) {
			if bytes.HasPrefix(w, []byte("ZcanaryX")) && len(w) > 13 {
				w = w[:13] // a record id: its patient's token, then a counter
			}
			if listed[string(w)] {
				written[string(w)] = true
			}
		}
	}
	for _, c := range list {
		if !written[c] {
			t.Fatalf("canary %q listed but not written", c)
		}
	}

	// A plain run into the same folder removes the canary list.
	opt := Options{Patients: 20, Seed: 3, From: date("2024-01-01"), To: date("2025-12-31"), OutDir: dir}
	if _, err := Generate(context.Background(), opt); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, canaryFile)); !os.IsNotExist(err) {
		t.Errorf("plain run left %s behind (%v)", canaryFile, err)
	}
}

func TestCanaryForms(t *testing.T) {
	seen := map[string]bool{}
	// first, around the digit carries, and the largest person number
	for _, k := range []int{0, 1, 35, 36, 9998, 9999, 10000, 979_999, 980_001, 7_999_999, 8_000_000, 2*MaxPatients - 1} {
		ssn := string(appendCanarySSN(nil, k))
		phone := string(appendCanaryPhone(nil, k))
		if !canarySSN.MatchString(ssn) || !canaryPhone.MatchString(phone) || seen[ssn] || seen[phone] {
			t.Errorf("k=%d: SSN %q, phone %q (bad form or repeated)", k, ssn, phone)
		}
		seen[ssn], seen[phone] = true, true
		if tag := canaryTag(k); len(strings.TrimLeft(string(tag[:]), "0123456789abcdefghijklmnopqrstuvwxyz")) != 0 {
			t.Errorf("k=%d: tag %q", k, tag)
		}
	}
	if got := canary('G', 36*36+35); got != "ZcanaryG0010z" {
		t.Errorf("canary('G', 1331) = %q", got)
	}
	if got := string(appendCanaryEmail(nil, 2*MaxPatients-1)); got != "canary.bwo3j@canary.invalid" {
		t.Errorf("largest email %q", got)
	}
}
