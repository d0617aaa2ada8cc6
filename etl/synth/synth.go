package synth

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"
)

// Version identifies the generator's model; it changes whenever the same
// Options would give different files.
const Version = "synth/3"

// MaxPatients is the largest population Generate makes: ids and MRNs are
// bijections of the patient index over fixed digit ranges.
const MaxPatients = 10_000_000

// chunkSize is the number of patients one worker builds at a time.
const chunkSize = 200

// ErrInvalidOptions is returned (wrapped) for Options that cannot be used.
var ErrInvalidOptions = errors.New("invalid generator options")

// Options say what to generate and where.
type Options struct {
	Patients int
	Seed     int64
	// From and To are the measurement window's first and last days (their
	// dates are used, in UTC). The export time is the last second of To.
	From, To time.Time
	// OutDir receives ehr/, crm/ and truth.json; it is created if missing,
	// and files of an earlier run are replaced.
	OutDir string
	// Workers is the number of parallel workers (0 = runtime.NumCPU()). It
	// does not change the output.
	Workers int
	// CorruptEvery, when > 0, replaces every Nth line of
	// Appointment.000.ndjson, Observation.000.ndjson (cut in half: invalid
	// JSON) and every Nth data row of messages.csv and message_events.csv
	// (cut to two fields) with a malformed one. Truth.Corrupted counts them.
	CorruptEvery int
	// Canaries gives every Patient and CRM contact canary identifiers:
	// each identifying field (names, MRN, SSN, phone, e-mail, street line,
	// city, member id, Patient.id, contact_id) holds a value unique to that
	// field of that person, message bodies and survey comments carry a canary
	// token, and canaries.txt in OutDir lists them all, one per line, so
	// any artefact can be grepped for every one (canary.go documents the
	// forms). The simulation is the same as without (same counts and times).
	// Without Canaries the files are those of earlier versions, byte for
	// byte.
	Canaries bool
	// Progress, if set, is called from Generate's goroutine with the number
	// of patients written so far.
	Progress func(done int)
}

// Truth is what truth.json records: the inputs, the model's parameters and
// what was written.
type Truth struct {
	GeneratorVersion string   `json:"generator_version"`
	Seed             int64    `json:"seed"`
	Patients         int      `json:"patients"`
	From             string   `json:"from"`
	To               string   `json:"to"`
	ExportTime       string   `json:"export_time"`
	Clinics          []Clinic `json:"clinics"`
	Params           Params   `json:"params"`
	// Counts maps each FHIR type and CRM file (contacts, campaigns, messages,
	// message_events, survey_responses, consents) to the lines written,
	// corrupted ones and resent events included, CSV headers excluded.
	Counts map[string]int `json:"counts"`
	// Corrupted maps a file's path relative to OutDir to the number of its
	// lines replaced by malformed ones.
	Corrupted map[string]int `json:"corrupted"`
	// UnmatchedContacts is the number of CRM contacts whose MRN matches no
	// patient.
	UnmatchedContacts int `json:"unmatched_contacts"`
	// AppointmentStatuses counts appointments written per status.
	AppointmentStatuses map[string]int `json:"appointment_statuses"`
	// Canaries records Options.Canaries; CanaryCount is the number of
	// lines of canaries.txt. Both are absent from truth.json without
	// canaries.
	Canaries    bool `json:"canaries,omitempty"`
	CanaryCount int  `json:"canary_count,omitempty"`
}

// Generate writes a synthetic population to opt.OutDir and returns its
// truth. Files are written under a temporary folder inside OutDir and moved
// into place at the end, ehr/manifest.json and truth.json last, so a run that
// fails or is cancelled leaves no manifest or truth of its own. It returns
// ctx's error if ctx is cancelled, wrapped ErrInvalidOptions for bad options,
// and wrapped I/O errors.
func Generate(ctx context.Context, opt Options) (*Truth, error) {
	w, err := newWorld(opt)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(opt.OutDir, 0o755); err != nil {
		return nil, fmt.Errorf("create output folder: %w", err)
	}
	tmp, err := os.MkdirTemp(opt.OutDir, ".synth-tmp-")
	if err != nil {
		return nil, fmt.Errorf("create temporary folder: %w", err)
	}
	defer os.RemoveAll(tmp)

	out, err := openOutputs(tmp)
	if err != nil {
		return nil, err
	}
	defer out.close()
	out.setCorruption(opt.CorruptEvery)
	if opt.Canaries {
		if err := out.openCanaries(); err != nil {
			return nil, err
		}
	}

	// Fixed records first.
	for i := range clinics {
		out.write(fOrganization, appendOrganization(nil, clinics[i].ID, clinics[i].Name, "prov", "Healthcare Provider"), 1)
		out.write(fLocation, appendLocation(nil, &clinics[i]), 1)
	}
	for _, p := range payers {
		if p.id != "" {
			out.write(fOrganization, appendOrganization(nil, p.id, p.name, "pay", "Payer"), 1)
		}
	}
	out.write(fCampaigns, appendCampaigns(nil, w.campaigns), len(w.campaigns))

	truth := &Truth{
		GeneratorVersion: Version, Seed: opt.Seed, Patients: opt.Patients,
		From: opt.From.UTC().Format(time.DateOnly), To: opt.To.UTC().Format(time.DateOnly),
		ExportTime: time.Unix(w.export, 0).UTC().Format(time.RFC3339),
		Clinics:    clinics, Params: w.p,
		Counts: map[string]int{}, Corrupted: map[string]int{}, AppointmentStatuses: map[string]int{},
		Canaries: opt.Canaries,
	}
	var statuses [10]int
	err = run(ctx, w, opt, func(c *chunk, done int) error {
		for f := 0; f < nFiles; f++ {
			if c.lines[f] > 0 {
				out.write(f, c.buf[f], c.lines[f])
			}
		}
		truth.UnmatchedContacts += c.unmatched
		truth.CanaryCount += c.nCanaries
		out.writeCanaries(c.canaries)
		for i, n := range c.statuses {
			statuses[i] += n
		}
		if out.err != nil {
			return out.err
		}
		if opt.Progress != nil {
			opt.Progress(done)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := out.close(); err != nil {
		return nil, err
	}
	for f := 0; f < nFiles; f++ {
		truth.Counts[fileKeys[f]] = out.lines[f]
		if corruptible[f] && opt.CorruptEvery > 0 {
			truth.Corrupted[fileNames[f]] = out.corrupted[f]
		}
	}
	for i, n := range statuses {
		truth.AppointmentStatuses[apptStatuses[i]] = n
	}

	manifest, err := manifestJSON(w, out.lines)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(tmp, "ehr", "manifest.json"), manifest, 0o644); err != nil {
		return nil, fmt.Errorf("write manifest: %w", err)
	}
	tj, err := json.MarshalIndent(truth, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode truth: %w", err)
	}
	if err := os.WriteFile(filepath.Join(tmp, "truth.json"), append(tj, '\n'), 0o644); err != nil {
		return nil, fmt.Errorf("write truth: %w", err)
	}
	if err := publish(tmp, opt.OutDir); err != nil {
		return nil, err
	}
	return truth, nil
}

func newWorld(opt Options) (*world, error) {
	switch {
	case opt.Patients < 1 || opt.Patients > MaxPatients:
		return nil, fmt.Errorf("%w: Patients must be 1..%d, got %d", ErrInvalidOptions, MaxPatients, opt.Patients)
	case opt.OutDir == "":
		return nil, fmt.Errorf("%w: OutDir is empty", ErrInvalidOptions)
	case opt.CorruptEvery < 0:
		return nil, fmt.Errorf("%w: CorruptEvery must not be negative", ErrInvalidOptions)
	case opt.Workers < 0:
		return nil, fmt.Errorf("%w: Workers must not be negative", ErrInvalidOptions)
	}
	fy, fm, fd := opt.From.UTC().Date()
	ty, tm, td := opt.To.UTC().Date()
	from := daysFromCivil(fy, int(fm), fd) * day
	exportDay := daysFromCivil(ty, int(tm), td) * day
	if exportDay < from+27*day {
		return nil, fmt.Errorf("%w: To must be at least 4 weeks after From", ErrInvalidOptions)
	}
	if fy < 1900 || ty > 2200 {
		return nil, fmt.Errorf("%w: dates must lie in 1900..2200", ErrInvalidOptions)
	}
	p := DefaultParams()
	w := &world{
		seed: splitmix(uint64(opt.Seed)), from: from, exportDay: exportDay, export: exportDay + day - 1,
		p: p, clinicCum: cumulative(clinicWeights), canaries: opt.Canaries,
	}
	w.horizon = w.export + int64(p.Appointments.FutureDays)*day
	w.histStart = from - int64(p.Adherence.HistoryDays)*day
	w.windowYear = float64(w.export-w.from) / yearSec
	aw := make([]int, len(areas))
	for i, a := range areas {
		aw[i] = a.weight
	}
	w.areaCum = cumulative(aw)
	w.campaigns, w.fluByYear = campaignList(w.from, w.export)
	for y := fy; y <= ty; y++ {
		w.years = append(w.years, y)
	}
	return w, nil
}

// job is one chunk to build; its result goes to done.
type job struct {
	first, n int
	done     chan *chunk
}

// run builds chunks of patients in parallel and hands them to emit in
// patient order. At most a few chunks per worker are in flight, so memory
// does not grow with the population.
func run(ctx context.Context, w *world, opt Options, emit func(c *chunk, done int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	workers := opt.Workers
	if workers == 0 {
		workers = runtime.NumCPU()
	}
	pool := sync.Pool{New: func() any { return new(chunk) }}
	jobs := make(chan job)
	order := make(chan chan *chunk, 2*workers)
	go func() {
		defer close(order)
		defer close(jobs)
		for first := 0; first < opt.Patients; first += chunkSize {
			j := job{first: first, n: min(chunkSize, opt.Patients-first), done: make(chan *chunk, 1)}
			select {
			case order <- j.done:
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- j:
			case <-ctx.Done():
				j.done <- nil
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g := newGen(w)
			for j := range jobs {
				if ctx.Err() != nil {
					j.done <- nil
					continue
				}
				c := pool.Get().(*chunk)
				c.reset()
				for i := j.first; i < j.first+j.n; i++ {
					g.patient(c, i)
				}
				j.done <- c
			}
		}()
	}
	var err error
	done := 0
	for ch := range order {
		c := <-ch
		if c == nil || err != nil {
			if c != nil {
				pool.Put(c)
			}
			continue
		}
		done += c.patients
		if err = emit(c, done); err != nil {
			cancel()
		}
		pool.Put(c)
		if err == nil && ctx.Err() != nil {
			err = ctx.Err()
		}
	}
	wg.Wait()
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	return nil
}

// outputs are the files being written, with their line counts.
type outputs struct {
	dir       string
	files     [nFiles]*os.File
	bufs      [nFiles]*bufio.Writer
	lines     [nFiles]int
	corrupted [nFiles]int
	every     int
	err       error
	closed    bool
	// canaries is canaries.txt, open with Options.Canaries.
	canaryFile *os.File
	canaries   *bufio.Writer
}

func openOutputs(dir string) (*outputs, error) {
	o := &outputs{dir: dir}
	for _, sub := range []string{"ehr", "crm"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return nil, fmt.Errorf("create %s: %w", sub, err)
		}
	}
	for f := 0; f < nFiles; f++ {
		fh, err := os.Create(filepath.Join(dir, fileNames[f]))
		if err != nil {
			o.close()
			return nil, fmt.Errorf("create %s: %w", fileNames[f], err)
		}
		o.files[f] = fh
		o.bufs[f] = bufio.NewWriterSize(fh, 1<<20)
		if h := csvHeaders[f]; h != "" {
			o.bufs[f].WriteString(h + "\n")
		}
	}
	return o, nil
}

// openCanaries creates canaries.txt.
func (o *outputs) openCanaries() error {
	fh, err := os.Create(filepath.Join(o.dir, canaryFile))
	if err != nil {
		return fmt.Errorf("create %s: %w", canaryFile, err)
	}
	o.canaryFile, o.canaries = fh, bufio.NewWriterSize(fh, 1<<20)
	return nil
}

// writeCanaries appends lines to canaries.txt, when it is open.
func (o *outputs) writeCanaries(b []byte) {
	if o.canaries != nil && o.err == nil && len(b) > 0 {
		_, o.err = o.canaries.Write(b)
	}
}

// setCorruption is called once, before writing data lines.
func (o *outputs) setCorruption(n int) { o.every = n }

// write appends n lines (b) to file f, replacing every Nth line of a
// corruptible file with a malformed one.
func (o *outputs) write(f int, b []byte, n int) {
	if o.err != nil {
		return
	}
	bw := o.bufs[f]
	if o.every <= 0 || !corruptible[f] || (o.lines[f]+n)/o.every == o.lines[f]/o.every {
		o.lines[f] += n
		_, o.err = bw.Write(b)
		return
	}
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		line := b[:i+1]
		b = b[i+1:]
		o.lines[f]++
		if o.lines[f]%o.every != 0 {
			bw.Write(line)
			continue
		}
		o.corrupted[f]++
		if f >= nFHIR {
			// a CSV row: keep the first two fields, a row with the wrong
			// field count
			k := bytes.IndexByte(line, ',')
			k += 1 + bytes.IndexByte(line[k+1:], ',')
			bw.Write(line[:k])
		} else {
			bw.Write(line[:len(line)/2]) // an unterminated JSON object
		}
		o.err = bw.WriteByte('\n')
	}
}

func (o *outputs) close() error {
	if o.closed {
		return nil
	}
	o.closed = true
	err := o.err
	for f := 0; f < nFiles; f++ {
		if o.files[f] == nil {
			continue
		}
		if o.bufs[f] != nil {
			if e := o.bufs[f].Flush(); e != nil && err == nil {
				err = fmt.Errorf("write %s: %w", fileNames[f], e)
			}
		}
		if e := o.files[f].Close(); e != nil && err == nil {
			err = fmt.Errorf("close %s: %w", fileNames[f], e)
		}
	}
	if o.canaryFile != nil {
		if e := o.canaries.Flush(); e != nil && err == nil {
			err = fmt.Errorf("write %s: %w", canaryFile, e)
		}
		if e := o.canaryFile.Close(); e != nil && err == nil {
			err = fmt.Errorf("close %s: %w", canaryFile, e)
		}
	}
	return err
}

// publish moves the finished files from tmp into out: data files (and
// canaries.txt) first, then the manifest, then truth.json, after removing an
// earlier run's manifest, truth and canaries so that no moment shows an old
// manifest beside new data, and no run leaves another's canary list.
func publish(tmp, out string) error {
	for _, p := range []string{filepath.Join("ehr", "manifest.json"), "truth.json", canaryFile} {
		if err := os.Remove(filepath.Join(out, p)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove old %s: %w", p, err)
		}
	}
	for _, sub := range []string{"ehr", "crm"} {
		if err := os.MkdirAll(filepath.Join(out, sub), 0o755); err != nil {
			return fmt.Errorf("create %s: %w", sub, err)
		}
	}
	names := fileNames[:]
	if _, err := os.Stat(filepath.Join(tmp, canaryFile)); err == nil {
		names = append(names, canaryFile)
	}
	names = append(names, "ehr/manifest.json", "truth.json")
	for _, n := range names {
		if err := os.Rename(filepath.Join(tmp, n), filepath.Join(out, n)); err != nil {
			return fmt.Errorf("move %s into place: %w", n, err)
		}
	}
	return nil
}

type manifestOutput struct {
	Type  string `json:"type"`
	URL   string `json:"url"`
	Count int    `json:"count"`
}

type manifest struct {
	TransactionTime     string           `json:"transactionTime"`
	Request             string           `json:"request"`
	RequiresAccessToken bool             `json:"requiresAccessToken"`
	Output              []manifestOutput `json:"output"`
	Error               []manifestOutput `json:"error"`
}

func manifestJSON(w *world, lines [nFiles]int) ([]byte, error) {
	m := manifest{
		TransactionTime: time.Unix(w.export, 0).UTC().Format(time.RFC3339),
		Error:           []manifestOutput{},
	}
	types := make([]string, 0, nFHIR)
	for f := 0; f < nFHIR; f++ {
		types = append(types, fileKeys[f])
		m.Output = append(m.Output, manifestOutput{fileKeys[f], strings.TrimPrefix(fileNames[f], "ehr/"), lines[f]})
	}
	m.Request = "https://ehr.example.org/fhir/$export?_type=" + strings.Join(types, ",")
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(m); err != nil {
		return nil, fmt.Errorf("encode manifest: %w", err)
	}
	return buf.Bytes(), nil
}

func appendOrganization(b []byte, id, name, typ, display string) []byte {
	b = append(b, `{"resourceType":"Organization","id":"`...)
	b = append(b, id...)
	b = append(b, `","active":true,"type":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/organization-type","code":"`...)
	b = append(b, typ...)
	b = append(b, `","display":"`...)
	b = append(b, display...)
	b = append(b, `"}]}],"name":`...)
	b = appendQuoted(b, name)
	return append(b, "}\n"...)
}

func appendLocation(b []byte, c *Clinic) []byte {
	b = append(b, `{"resourceType":"Location","id":"`...)
	b = append(b, c.ID...)
	b = append(b, `","status":"active","name":`...)
	b = appendQuoted(b, c.Name)
	b = append(b, `,"managingOrganization":{"reference":"Organization/`...)
	b = append(b, c.ID...)
	return append(b, "\"}}\n"...)
}
