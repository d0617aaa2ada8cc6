package bulk

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"time"
)

// Manifest is a Bulk Data completion manifest. Export returns it as written
// to destDir/manifest.json: each URL is the file's name relative to destDir
// ("Patient.000.ndjson", "deleted/Bundle.000.ndjson",
// "error/OperationOutcome.000.ndjson"), every other member as the server sent
// it.
type Manifest struct {
	// TransactionTime is the server time the export reflects; pass it as
	// the next Request.Since for an incremental export.
	TransactionTime time.Time `json:"transactionTime"`
	// Request is the kick-off URL as the server understood it.
	Request string `json:"request"`
	// RequiresAccessToken says the remote files needed the bearer token.
	RequiresAccessToken bool `json:"requiresAccessToken"`
	// Output lists the data files, Type set on each.
	Output []File `json:"output"`
	// Deleted lists files of transaction Bundles whose DELETE entries name
	// resources deleted since Request.Since.
	Deleted []File `json:"deleted,omitempty"`
	// Error lists files of OperationOutcome resources for problems the
	// server met while exporting; they do not fail the export.
	Error     []File          `json:"error"`
	Extension json.RawMessage `json:"extension,omitempty"`
}

// File is one entry of a manifest's output, deleted or error array.
type File struct {
	Type string `json:"type"`
	URL  string `json:"url"`
	// Count is the number of resources (lines) the server says the file
	// holds; zero when it did not say. A download with another number of
	// lines is retried.
	Count     int64           `json:"count,omitempty"`
	Extension json.RawMessage `json:"extension,omitempty"`
}

// maxManifest bounds the completion manifest read into memory.
const maxManifest = 64 << 20

// Sub-folders of destDir for deleted and error files.
const (
	DeletedDir = "deleted"
	ErrorDir   = "error"
)

// safeName is what a resource type must look like to become a file name.
var safeName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]{0,63}$`)

// fileJob is one file to download.
type fileJob struct {
	kind  string // "output", "deleted", "error"
	index int    // in that manifest array
	typ   string
	src   string // absolute remote URL
	local string // slash-separated, relative to destDir
	count int64
}

// decodeManifest reads a completion manifest and resolves its file URLs
// against the status URL.
func decodeManifest(r io.Reader, statusURL string) (*Manifest, error) {
	var m Manifest
	dec := json.NewDecoder(io.LimitReader(r, maxManifest))
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrManifest, err)
	}
	if m.TransactionTime.IsZero() {
		return nil, fmt.Errorf("%w: no transactionTime", ErrManifest)
	}
	if m.Error == nil {
		m.Error = []File{}
	}
	if m.Output == nil {
		m.Output = []File{}
	}
	base, err := url.Parse(statusURL)
	if err != nil {
		return nil, fmt.Errorf("%w: status URL: %w", ErrManifest, err)
	}
	for _, list := range [][]File{m.Output, m.Deleted, m.Error} {
		for i := range list {
			u, err := base.Parse(list[i].URL)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || list[i].URL == "" {
				return nil, fmt.Errorf("%w: file URL %q is not an http(s) URL", ErrManifest, redact(list[i].URL))
			}
			list[i].URL = u.String()
			if list[i].Count < 0 {
				return nil, fmt.Errorf("%w: negative count for %s", ErrManifest, redact(list[i].URL))
			}
		}
	}
	return &m, nil
}

// plan names every file of m locally: Type.NNN.ext in destDir for outputs,
// under DeletedDir and ErrorDir for the others, numbered per type in manifest
// order. A type that is not a plain resource-type name is refused, so a
// server cannot write outside destDir.
func plan(m *Manifest, ext string) ([]fileJob, error) {
	var jobs []fileJob
	add := func(kind, dir, defType string, list []File) error {
		seq := map[string]int{}
		for i, f := range list {
			typ := f.Type
			if typ == "" {
				typ = defType
			}
			if typ == "" || !safeName.MatchString(typ) {
				return fmt.Errorf("%w: %s file %d has type %q, not a resource type", ErrManifest, kind, i, f.Type)
			}
			name := fmt.Sprintf("%s.%03d%s", typ, seq[typ], ext)
			seq[typ]++
			jobs = append(jobs, fileJob{kind: kind, index: i, typ: typ, src: f.URL, local: path.Join(dir, name), count: f.Count})
		}
		return nil
	}
	if err := add("output", "", "", m.Output); err != nil {
		return nil, err
	}
	if err := add("deleted", DeletedDir, "Bundle", m.Deleted); err != nil {
		return nil, err
	}
	if err := add("error", ErrorDir, "OperationOutcome", m.Error); err != nil {
		return nil, err
	}
	return jobs, nil
}

// localManifest is m with each URL replaced by its local name.
func localManifest(m *Manifest, jobs []fileJob) *Manifest {
	out := *m
	out.Output = append([]File{}, m.Output...)
	out.Deleted = append([]File(nil), m.Deleted...)
	out.Error = append([]File{}, m.Error...)
	for _, j := range jobs {
		var f *File
		switch j.kind {
		case "output":
			f = &out.Output[j.index]
		case "deleted":
			f = &out.Deleted[j.index]
		default:
			f = &out.Error[j.index]
		}
		f.URL, f.Type = j.local, j.typ
	}
	return &out
}

// writeJSONFile writes v as indented JSON to name through a temporary file in
// the same folder, renamed into place once synced.
func writeJSONFile(name string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(name), ".manifest-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), name)
}
