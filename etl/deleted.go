package etl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/carelens/carelens/etl/deid"
	"github.com/carelens/carelens/etl/fhir"
	"github.com/carelens/carelens/internal/store"
)

// deletion is one DELETE entry of a deleted-resources Bundle.
type deletion struct {
	typ, id string
}

// parseDeletedLine reads one line of a deleted file: a transaction Bundle of
// DELETE entries whose request.url is Type/id.
func parseDeletedLine(line []byte) ([]deletion, error) {
	var b struct {
		ResourceType string `json:"resourceType"`
		Entry        []struct {
			Request struct {
				Method string `json:"method"`
				URL    string `json:"url"`
			} `json:"request"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(line, &b); err != nil {
		return nil, &fhir.RecordError{Reason: "malformed JSON"}
	}
	if b.ResourceType != "Bundle" {
		return nil, &fhir.RecordError{Reason: "deleted file line is not a Bundle"}
	}
	var out []deletion
	for _, e := range b.Entry {
		if e.Request.Method != "DELETE" {
			continue
		}
		u := e.Request.URL
		if i := strings.Index(u, "?"); i >= 0 {
			return nil, &fhir.RecordError{Reason: "conditional DELETE is not supported"}
		}
		parts := strings.Split(strings.Trim(u, "/"), "/")
		if len(parts) < 2 {
			return nil, &fhir.RecordError{Reason: "DELETE request.url is not Type/id"}
		}
		out = append(out, deletion{typ: parts[len(parts)-2], id: parts[len(parts)-1]})
	}
	return out, nil
}

// eachLine calls fn with every non-blank line of an NDJSON file and its
// number. A file that cannot be opened or read to its end is recorded in q
// (where it broke) and the lines before the break stay processed; an error
// from fn stops the file and is returned.
func eachLine(path, source, entity string, q *quarantineLog, rel func(string) string, fn func(line []byte, n int64) error) error {
	lr, err := fhir.OpenNDJSON(path)
	if err != nil {
		q.add(quarantined{source: source, file: rel(path), entity: entity, reason: fileReason(err)})
		return nil
	}
	defer lr.Close()
	for {
		line, n, err := lr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			q.add(quarantined{source: source, file: rel(path), line: n + 1, entity: entity, reason: fileReason(err)})
			return nil
		}
		if err := fn(line, n); err != nil {
			return err
		}
	}
}

// applyDeleted removes from the warehouse every resource the manifest's
// deleted files name. A deleted Patient loses its patient row (its other
// resources are deleted by their own entries); a type carelens does not load
// is counted and ignored.
func applyDeleted(ctx context.Context, tx *store.Tx, dir string, files []ManifestFile, entities []*fhir.Entity,
	v *deid.Vault, q *quarantineLog, res *Result, rel func(string) string) error {
	if len(files) == 0 {
		return nil
	}
	cnt := &Count{Source: "ehr", Entity: "deleted"}
	res.Counts = append(res.Counts, cnt)
	for _, f := range files {
		p, err := localPath(dir, f.URL)
		if err != nil {
			return err
		}
		err = eachLine(p, "ehr", "deleted", q, rel, func(line []byte, n int64) error {
			cnt.Read++
			dels, err := parseDeletedLine(line)
			if err != nil {
				var re *fhir.RecordError
				if !errors.As(err, &re) {
					return err
				}
				cnt.Quarantined++
				q.add(quarantined{source: "ehr", file: rel(p), line: n, entity: "deleted", reason: re.Reason})
				return nil
			}
			for _, d := range dels {
				rows, err := deleteResource(ctx, tx, entities, v, d)
				if err != nil {
					return err
				}
				cnt.Rows += rows
			}
			cnt.Loaded++
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// deleteResource deletes the rows of one resource from every table its type
// loads (through a Go mapper or a view) and returns how many.
func deleteResource(ctx context.Context, tx *store.Tx, entities []*fhir.Entity, v *deid.Vault, d deletion) (int64, error) {
	var n int64
	for _, ent := range entities {
		if ent.Type != d.typ {
			continue
		}
		rows, err := deleteRows(ctx, tx, ent, v, d)
		if err != nil {
			return n, err
		}
		n += rows
	}
	return n, nil
}

func deleteRows(ctx context.Context, tx *store.Tx, ent *fhir.Entity, v *deid.Vault, d deletion) (int64, error) {
	key, ok := ent.KeyOf(v, d.id)
	if !ok {
		return 0, nil // never loaded
	}
	r, err := tx.Exec(ctx, fmt.Sprintf(`DELETE FROM %s WHERE %s = ?`, ent.Table.Name, ent.Table.Key), key)
	if err != nil {
		return 0, fmt.Errorf("delete %s: %w", d.typ, err)
	}
	return r.RowsAffected()
}

// recordServerErrors records each issue of the manifest's error files
// against the run, by severity and code only: diagnostics can name resources.
func recordServerErrors(dir string, files []ManifestFile, q *quarantineLog, res *Result, rel func(string) string) error {
	if len(files) == 0 {
		return nil
	}
	cnt := &Count{Source: "ehr", Entity: "OperationOutcome"}
	res.Counts = append(res.Counts, cnt)
	for _, f := range files {
		p, err := localPath(dir, f.URL)
		if err != nil {
			return err
		}
		eachLine(p, "ehr", "OperationOutcome", q, rel, func(line []byte, n int64) error {
			cnt.Read++
			cnt.Quarantined++
			var oo struct {
				Issue []struct {
					Severity string `json:"severity"`
					Code     string `json:"code"`
				} `json:"issue"`
			}
			reason := "server export error: malformed OperationOutcome"
			if json.Unmarshal(line, &oo) == nil && len(oo.Issue) > 0 {
				var parts []string
				for _, is := range oo.Issue {
					parts = append(parts, safeCode(is.Severity)+" "+safeCode(is.Code))
				}
				reason = "server export error: " + strings.Join(parts, "; ")
			}
			q.add(quarantined{source: "ehr", file: rel(p), line: n, entity: "OperationOutcome", reason: reason})
			return nil
		})
	}
	return nil
}

// safeCode passes a FHIR code (letters, digits, '-') and nothing else.
func safeCode(s string) string {
	if len(s) == 0 || len(s) > 40 {
		return "(invalid)"
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
			return "(invalid)"
		}
	}
	return s
}
