package bulk

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeServer is a FHIR Bulk Data v2 server for tests. It serves
//
//	GET    /fhir/$export, /fhir/Patient/$export, /fhir/Group/{id}/$export  kick-off
//	GET    /jobs/{id}                                                    status
//	DELETE /jobs/{id}                                                    delete request
//	GET    /files/{name}                                                 output files
//	GET    /redirect/{name}                                              302 to the other origin
//
// and, on a second origin (other), GET /files/{name} for files a manifest
// points elsewhere (like pre-signed object storage URLs). It validates
// kick-off requests as the IG asks (strict handling: unknown parameters,
// resource types and formats are refused with an OperationOutcome) and
// records what it saw for the tests to assert on.
type fakeServer struct {
	t     *testing.T
	srv   *httptest.Server
	other *httptest.Server
	cfg   serverConfig

	mu        sync.Mutex
	seen      // guarded by mu
	jobs      map[string]*fakeJob
	nextJob   int
	tokenUses map[string]int
}

// seen is what the server recorded.
type seen struct {
	kickoffs        []*http.Request // accepted or refused, clones
	kickoffAttempts int
	statusAttempts  int
	polls202        int
	deletes         []string // job ids
	unauthorized    int      // 401 answers
	fileHits        map[string]int
	fileAuth        map[string][]string // file name → Authorization seen (same origin)
	otherAuth       map[string][]string // file name → Authorization seen (other origin)
}

type fakeJob struct {
	request string
	since   bool
	deleted bool
	polls   int
}

type serverConfig struct {
	groups []string // known Group ids
	// polls is the number of 202 answers before the manifest.
	polls int
	// progress and retryAfter give X-Progress and Retry-After for the
	// n-th 202 (0-based); nil or "" sends none.
	progress   func(n int) string
	retryAfter func(n int) string
	// kickoffFailures are answered, in order, before the kick-off is
	// accepted; statusFailures answer the n-th status GET (0-based, counting
	// every GET of any job).
	kickoffFailures []failure
	statusFailures  map[int]failure
	// token, when not empty, is the bearer token required on kick-off,
	// status and delete (and on files when requiresAccessToken).
	token string
	// tokenValid, if set, replaces token: it decides each bearer token
	// (given how many times it was accepted before).
	tokenValid          func(tok string, uses int) bool
	requiresAccessToken bool
	transactionTime     string
	files               []fakeFile
	deleted             []fakeFile // listed only when _since was given
	errors              []fakeFile
}

// failure is one error answer.
type failure struct {
	status     int
	retryAfter string
	code       string // OperationOutcome issue code; "" sends no body
	text       string
}

type fakeFile struct {
	name  string
	typ   string // "" omits type (deleted/error entries)
	lines []string
	count bool // put count in the manifest
	// where: "" same origin, "other" the other origin (with a ?sig= query),
	// "redirect" same origin redirecting to the other origin.
	where string
	gzip  bool // Content-Encoding: gzip when the client accepts it
	// faults[n] spoils attempt n.
	faults []fault
}

type fault int

const (
	faultNone       fault = iota
	faultCutShort         // full Content-Length, half the body, connection dropped
	faultCutMidLine       // chunked, stops in the middle of the last line
	faultDropLine         // chunked, complete lines but one fewer than count
	fault503              // 503 with Retry-After: 0
	fault404              // 404 with an OperationOutcome
)

func (f fakeFile) body() string { return strings.Join(f.lines, "\n") + "\n" }

func newFakeServer(t *testing.T, cfg serverConfig) *fakeServer {
	t.Helper()
	if cfg.transactionTime == "" {
		cfg.transactionTime = "2025-06-01T12:00:00.123+02:00"
	}
	fs := &fakeServer{t: t, cfg: cfg, jobs: map[string]*fakeJob{}, tokenUses: map[string]int{},
		seen: seen{fileHits: map[string]int{}, fileAuth: map[string][]string{}, otherAuth: map[string][]string{}}}
	fs.srv = httptest.NewServer(http.HandlerFunc(fs.serve))
	fs.other = httptest.NewServer(http.HandlerFunc(fs.serveOther))
	t.Cleanup(fs.srv.Close)
	t.Cleanup(fs.other.Close)
	return fs
}

func (fs *fakeServer) base() string { return fs.srv.URL + "/fhir" }

func writeOutcome(w http.ResponseWriter, status int, code, text string) {
	w.Header().Set("Content-Type", "application/fhir+json")
	w.WriteHeader(status)
	if code == "" {
		return
	}
	json.NewEncoder(w).Encode(map[string]any{
		"resourceType": "OperationOutcome",
		"issue":        []map[string]any{{"severity": "error", "code": code, "details": map[string]string{"text": text}}},
	})
}

func writeFailure(w http.ResponseWriter, f failure) {
	if f.retryAfter != "" {
		w.Header().Set("Retry-After", f.retryAfter)
	}
	writeOutcome(w, f.status, f.code, f.text)
}

// authorized checks the bearer token; it must be called with fs.mu held.
func (fs *fakeServer) authorized(r *http.Request) bool {
	if fs.cfg.token == "" && fs.cfg.tokenValid == nil {
		return true
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return false
	}
	if fs.cfg.tokenValid != nil {
		if !fs.cfg.tokenValid(tok, fs.tokenUses[tok]) {
			return false
		}
		fs.tokenUses[tok]++
		return true
	}
	return tok == fs.cfg.token
}

func (fs *fakeServer) serve(w http.ResponseWriter, r *http.Request) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	p := r.URL.Path
	switch {
	case strings.HasPrefix(p, "/fhir/") && strings.HasSuffix(p, "/$export") || p == "/fhir/$export":
		fs.kickoff(w, r)
	case strings.HasPrefix(p, "/jobs/"):
		fs.status(w, r, strings.TrimPrefix(p, "/jobs/"))
	case strings.HasPrefix(p, "/files/"):
		name := strings.TrimPrefix(p, "/files/")
		if fs.cfg.requiresAccessToken && !fs.authorized(r) {
			fs.unauthorized++
			writeOutcome(w, http.StatusUnauthorized, "login", "token required")
			return
		}
		fs.fileAuth[name] = append(fs.fileAuth[name], r.Header.Get("Authorization"))
		fs.serveFile(w, r, name)
	case strings.HasPrefix(p, "/redirect/"):
		name := strings.TrimPrefix(p, "/redirect/")
		fs.fileAuth[name] = append(fs.fileAuth[name], r.Header.Get("Authorization"))
		http.Redirect(w, r, fs.other.URL+"/files/"+name+"?sig=s3cr3t", http.StatusFound)
	default:
		writeOutcome(w, http.StatusNotFound, "not-found", "no route "+p)
	}
}

func (fs *fakeServer) serveOther(w http.ResponseWriter, r *http.Request) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	name, ok := strings.CutPrefix(r.URL.Path, "/files/")
	if !ok || r.URL.Query().Get("sig") != "s3cr3t" {
		writeOutcome(w, http.StatusForbidden, "forbidden", "bad signature")
		return
	}
	fs.otherAuth[name] = append(fs.otherAuth[name], r.Header.Get("Authorization"))
	fs.serveFile(w, r, name)
}

var knownTypes = []string{"Patient", "Observation", "Condition", "Encounter", "MedicationRequest", "Practitioner", "Group"}

func (fs *fakeServer) kickoff(w http.ResponseWriter, r *http.Request) {
	fs.kickoffAttempts++
	fs.kickoffs = append(fs.kickoffs, r.Clone(r.Context()))
	if !fs.authorized(r) {
		fs.unauthorized++
		writeOutcome(w, http.StatusUnauthorized, "login", "bearer token required")
		return
	}
	if len(fs.cfg.kickoffFailures) > 0 {
		f := fs.cfg.kickoffFailures[0]
		fs.cfg.kickoffFailures = fs.cfg.kickoffFailures[1:]
		writeFailure(w, f)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		writeOutcome(w, http.StatusMethodNotAllowed, "not-supported", "use GET or POST")
		return
	}
	if r.Header.Get("Accept") != "application/fhir+json" {
		writeOutcome(w, http.StatusBadRequest, "invalid", "Accept must be application/fhir+json")
		return
	}
	if r.Header.Get("Prefer") != "respond-async" {
		writeOutcome(w, http.StatusBadRequest, "invalid", "Prefer: respond-async is required")
		return
	}
	if rest, ok := strings.CutPrefix(r.URL.Path, "/fhir/Group/"); ok {
		id := strings.TrimSuffix(rest, "/$export")
		if !slices.Contains(fs.cfg.groups, id) {
			writeOutcome(w, http.StatusNotFound, "not-found", "Group/"+id+" not found")
			return
		}
	}
	q := r.URL.Query()
	for k := range q {
		switch k {
		case "_type", "_since", "_typeFilter", "_outputFormat":
		default:
			writeOutcome(w, http.StatusBadRequest, "not-supported", "unsupported parameter "+k)
			return
		}
	}
	if f := q.Get("_outputFormat"); f != "" && f != "application/fhir+ndjson" && f != "application/ndjson" && f != "ndjson" {
		writeOutcome(w, http.StatusBadRequest, "not-supported", "unsupported _outputFormat "+f)
		return
	}
	for _, v := range q["_type"] {
		for _, typ := range strings.Split(v, ",") {
			if !slices.Contains(knownTypes, typ) {
				writeOutcome(w, http.StatusBadRequest, "not-supported", "Unsupported resource type: "+typ)
				return
			}
		}
	}
	if s := q.Get("_since"); s != "" {
		if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
			writeOutcome(w, http.StatusBadRequest, "invalid", "_since is not an instant: "+s)
			return
		}
	}
	for _, f := range q["_typeFilter"] {
		typ, _, ok := strings.Cut(f, "?")
		if !ok || !slices.Contains(knownTypes, typ) {
			writeOutcome(w, http.StatusBadRequest, "invalid", "bad _typeFilter "+f)
			return
		}
	}
	fs.nextJob++
	id := "job" + strconv.Itoa(fs.nextJob)
	fs.jobs[id] = &fakeJob{request: fs.srv.URL + r.URL.RequestURI(), since: q.Has("_since")}
	w.Header().Set("Content-Location", fs.srv.URL+"/jobs/"+id)
	w.WriteHeader(http.StatusAccepted)
}

func (fs *fakeServer) status(w http.ResponseWriter, r *http.Request, id string) {
	job := fs.jobs[id]
	if r.Method == http.MethodDelete {
		if !fs.authorized(r) {
			fs.unauthorized++
			writeOutcome(w, http.StatusUnauthorized, "login", "bearer token required")
			return
		}
		fs.deletes = append(fs.deletes, id)
		if job == nil || job.deleted {
			writeOutcome(w, http.StatusNotFound, "not-found", "no such job")
			return
		}
		job.deleted = true
		w.WriteHeader(http.StatusAccepted)
		return
	}
	n := fs.statusAttempts
	fs.statusAttempts++
	if !fs.authorized(r) {
		fs.unauthorized++
		writeOutcome(w, http.StatusUnauthorized, "login", "bearer token expired")
		return
	}
	if f, ok := fs.cfg.statusFailures[n]; ok {
		writeFailure(w, f)
		return
	}
	if job == nil || job.deleted {
		writeOutcome(w, http.StatusNotFound, "not-found", "no such job")
		return
	}
	if job.polls < fs.cfg.polls {
		k := job.polls
		job.polls++
		fs.polls202++
		if fs.cfg.progress != nil {
			if p := fs.cfg.progress(k); p != "" {
				w.Header().Set("X-Progress", p)
			}
		}
		if fs.cfg.retryAfter != nil {
			if ra := fs.cfg.retryAfter(k); ra != "" {
				w.Header().Set("Retry-After", ra)
			}
		}
		w.WriteHeader(http.StatusAccepted)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(fs.manifest(job))
}

func (fs *fakeServer) fileURL(f fakeFile) string {
	switch f.where {
	case "other":
		return fs.other.URL + "/files/" + f.name + "?sig=s3cr3t"
	case "redirect":
		return fs.srv.URL + "/redirect/" + f.name
	}
	return fs.srv.URL + "/files/" + f.name
}

func (fs *fakeServer) manifest(job *fakeJob) map[string]any {
	list := func(files []fakeFile) []map[string]any {
		out := []map[string]any{}
		for _, f := range files {
			e := map[string]any{"url": fs.fileURL(f)}
			if f.typ != "" {
				e["type"] = f.typ
			}
			if f.count {
				e["count"] = len(f.lines)
			}
			out = append(out, e)
		}
		return out
	}
	m := map[string]any{
		"transactionTime":     fs.cfg.transactionTime,
		"request":             job.request,
		"requiresAccessToken": fs.cfg.requiresAccessToken,
		"output":              list(fs.cfg.files),
		"error":               list(fs.cfg.errors),
	}
	if job.since {
		m["deleted"] = list(fs.cfg.deleted)
	}
	return m
}

func (fs *fakeServer) findFile(name string) (fakeFile, bool) {
	for _, list := range [][]fakeFile{fs.cfg.files, fs.cfg.deleted, fs.cfg.errors} {
		for _, f := range list {
			if f.name == name {
				return f, true
			}
		}
	}
	return fakeFile{}, false
}

func (fs *fakeServer) serveFile(w http.ResponseWriter, r *http.Request, name string) {
	f, ok := fs.findFile(name)
	if !ok {
		writeOutcome(w, http.StatusNotFound, "not-found", "file expired")
		return
	}
	attempt := fs.fileHits[name]
	fs.fileHits[name]++
	flt := faultNone
	if attempt < len(f.faults) {
		flt = f.faults[attempt]
	}
	body := []byte(f.body())
	w.Header().Set("Content-Type", "application/fhir+ndjson")
	switch flt {
	case fault503:
		w.Header().Set("Retry-After", "0")
		writeOutcome(w, http.StatusServiceUnavailable, "transient", "busy")
		return
	case fault404:
		writeOutcome(w, http.StatusNotFound, "not-found", "file expired")
		return
	case faultCutShort:
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusOK)
		w.Write(body[:len(body)/2])
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler) // drop the connection mid-body
	case faultCutMidLine:
		last := strings.LastIndex(strings.TrimSuffix(string(body), "\n"), "\n") + 1
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush() // chunked, no Content-Length
		w.Write(body[:last+(len(body)-last)/2])
		return
	case faultDropLine:
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		w.Write([]byte(strings.Join(f.lines[:len(f.lines)-1], "\n") + "\n"))
		return
	}
	if f.gzip && strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(body)
		zw.Close()
		body = buf.Bytes()
		w.Header().Set("Content-Encoding", "gzip")
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.Write(body)
}

// snapshot returns a copy of the counters under the lock.
func (fs *fakeServer) snapshot() seen {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	cp := seen{
		kickoffs: slices.Clone(fs.kickoffs), kickoffAttempts: fs.kickoffAttempts, statusAttempts: fs.statusAttempts,
		polls202: fs.polls202, deletes: slices.Clone(fs.deletes), unauthorized: fs.unauthorized,
		fileHits: map[string]int{}, fileAuth: map[string][]string{}, otherAuth: map[string][]string{},
	}
	for k, v := range fs.fileHits {
		cp.fileHits[k] = v
	}
	for k, v := range fs.fileAuth {
		cp.fileAuth[k] = slices.Clone(v)
	}
	for k, v := range fs.otherAuth {
		cp.otherAuth[k] = slices.Clone(v)
	}
	return cp
}

// resources makes n NDJSON lines of a resource type; marker is a string
// the logs must never contain.
func resources(typ string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf(`{"resourceType":%q,"id":"%s-%d","name":[{"family":"SECRETNAME%d"}]}`, typ, strings.ToLower(typ), i, i)
	}
	return out
}
