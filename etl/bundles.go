package etl

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/apache/arrow/go/v17/arrow"

	"github.com/carelens/carelens/etl/fhir"
	"github.com/carelens/carelens/internal/store"
)

// An EHR folder may hold FHIR Bundles instead of NDJSON: one JSON file per
// Bundle (collection or transaction, as eCQM test decks and Synthea's
// default export give them), or a single resource per file. Every resource
// goes through the same views as an NDJSON line, with the same accounting
// (read = loaded + quarantined per resource type); a quarantined resource is
// located by its file and its 1-based position in Bundle.entry (the
// quarantine's line). References between the entries of a Bundle are
// resolved before the views run (fhir.BundleEntries). Bundles only add and
// replace resources: their DELETE entries are not applied.

// bundleRecord is one resource of a bundle file.
type bundleRecord struct {
	file string // relative path, for quarantine rows
	pos  int64  // 1-based position in Bundle.entry
	seq  int64  // input order across all files: a later version wins
	raw  []byte
}

// bundleInput is a folder's bundles, read whole: each loadable resource
// type's records in file order, then entry order, and how many resources of
// each other type there were.
type bundleInput struct {
	byType  map[string][]bundleRecord
	skipped map[string]int64
}

// bundleFiles lists the *.json files of dir that may hold Bundles (every
// *.json but a Bulk Data manifest.json), sorted; none when dir does not
// exist.
func bundleFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || !strings.HasSuffix(n, ".json") || n == "manifest.json" {
			continue
		}
		out = append(out, filepath.Join(dir, n))
	}
	sort.Strings(out)
	return out, nil
}

// readBundles reads every file, keeping the resources of the loadable types
// and counting the others. A file that cannot be read, or is not a Bundle or
// a resource, is quarantined whole (line 0); an entry holding nothing to
// load (a DELETE, an entry without a resource) is quarantined at its
// position. Neither counts as a record read.
func readBundles(files []string, loadable map[string]bool, q *quarantineLog, rel func(string) string) *bundleInput {
	in := &bundleInput{byType: map[string][]bundleRecord{}, skipped: map[string]int64{}}
	var seq int64
	for _, f := range files {
		file := rel(f)
		b, err := os.ReadFile(f)
		if err != nil {
			q.add(quarantined{source: "ehr", file: file, entity: "Bundle", reason: fileReason(err)})
			continue
		}
		entries, err := fhir.BundleEntries(b)
		if err != nil {
			q.add(quarantined{source: "ehr", file: file, entity: "Bundle", reason: "file unreadable: " + err.Error()})
			continue
		}
		for _, e := range entries {
			if e.Skip != "" {
				q.add(quarantined{source: "ehr", file: file, line: e.Pos, entity: "Bundle", reason: e.Skip})
				continue
			}
			if !loadable[e.Type] {
				in.skipped[e.Type]++
				continue
			}
			seq++
			in.byType[e.Type] = append(in.byType[e.Type], bundleRecord{file: file, pos: e.Pos, seq: seq, raw: e.Resource})
		}
	}
	return in
}

// bundleRecords returns a producer mapping recs through ent into records of
// at most about batchSize rows, in input order, quarantining bad ones at
// their position. cnt and q are updated as records are mapped.
func bundleRecords(recs []bundleRecord, ent *fhir.Entity, m *fhir.Mapper, q *quarantineLog, cnt *Count, batchSize int) store.Produce {
	b := store.NewBatch(ent.Table)
	i := 0
	return func(ctx context.Context) (arrow.Record, error) {
		for i < len(recs) {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			r := recs[i]
			i++
			cnt.Read++
			if err := ent.Map(m, r.raw, b, r.seq); err != nil {
				var re *fhir.RecordError
				if !errors.As(err, &re) {
					return nil, err
				}
				cnt.Quarantined++
				q.add(quarantined{source: "ehr", file: r.file, line: r.pos, entity: ent.Type, reason: re.Reason})
				continue
			}
			cnt.Loaded++
			if b.Len() >= batchSize {
				return b.Flush(), nil
			}
		}
		if b.Len() > 0 {
			return b.Flush(), nil
		}
		return nil, nil
	}
}
