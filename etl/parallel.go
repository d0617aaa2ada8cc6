package etl

import (
	"context"
	"errors"
	"io"
	"runtime"
	"sync"

	"github.com/apache/arrow/go/v17/arrow"

	"github.com/carelens/carelens/etl/fhir"
	"github.com/carelens/carelens/internal/store"
)

// A chunk is a run of consecutive NDJSON lines of one file, mapped by one
// worker into one Arrow record.
type chunk struct {
	file  string // relative path, for quarantine rows
	lines [][]byte
	nums  []int64
	seq   int64 // seq of the first line: input order across all files

	// tooLong are lines the reader skipped: read and quarantined.
	tooLong []quarantined

	// filled in by the worker
	rec     arrow.Record
	loaded  int64
	bad     []quarantined // lines that failed to map
	err     error
	done    chan struct{}
	fileBad *quarantined // a file-level problem found while reading, after lines
}

// ndjsonRecords returns a producer that reads files in order, maps their
// lines on workers goroutines and yields one record per chunk, in input
// order, so that the newest version of a key in a load is the last one read.
// cnt and q are updated as chunks are emitted.
func ndjsonRecords(files []string, ent *fhir.Entity, m *fhir.Mapper, q *quarantineLog, cnt *Count,
	rel func(string) string, chunkLines, workers int) store.Produce {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	var (
		once    sync.Once
		ordered chan *chunk
		cancel  context.CancelFunc
	)
	start := func(ctx context.Context) {
		ctx, cancel = context.WithCancel(ctx)
		work := make(chan *chunk, workers)
		ordered = make(chan *chunk, workers+1)
		go readChunks(ctx, files, ent, rel, chunkLines, work, ordered)
		for i := 0; i < workers; i++ {
			go mapChunks(ent, m, work)
		}
	}
	return func(ctx context.Context) (arrow.Record, error) {
		once.Do(func() { start(ctx) })
		for {
			c, ok := <-ordered
			if !ok {
				cancel()
				return nil, nil
			}
			<-c.done
			if c.err != nil {
				cancel()
				return nil, c.err
			}
			cnt.Read += int64(len(c.nums) + len(c.tooLong))
			cnt.Loaded += c.loaded
			cnt.Quarantined += int64(len(c.tooLong) + len(c.bad))
			for _, b := range c.tooLong {
				q.add(b)
			}
			for _, b := range c.bad {
				q.add(b)
			}
			if c.fileBad != nil {
				q.add(*c.fileBad)
			}
			if c.rec != nil {
				return c.rec, nil
			}
		}
	}
}

// readChunks cuts the files into chunks, hands each to the workers and, in
// the same order, to the emitter.
func readChunks(ctx context.Context, files []string, ent *fhir.Entity, rel func(string) string,
	size int, work chan<- *chunk, ordered chan<- *chunk) {
	defer close(work)
	defer close(ordered)
	var seq int64
	send := func(c *chunk) bool {
		c.done = make(chan struct{})
		select {
		case ordered <- c:
		case <-ctx.Done():
			return false
		}
		select {
		case work <- c:
			return true
		case <-ctx.Done():
			return false
		}
	}
	for _, f := range files {
		lr, err := fhir.OpenNDJSON(f)
		if err != nil {
			c := &chunk{file: rel(f), seq: seq}
			c.fileBad = &quarantined{source: "ehr", file: rel(f), entity: ent.Type, reason: fileReason(err)}
			if !send(c) {
				return
			}
			continue
		}
		c := &chunk{file: rel(f), seq: seq}
		for {
			line, n, err := lr.Next()
			if err == io.EOF {
				break
			}
			if errors.Is(err, fhir.ErrLineTooLong) {
				c.tooLong = append(c.tooLong, quarantined{source: "ehr", file: c.file, line: n, entity: ent.Type, reason: err.Error()})
				continue
			}
			if err != nil {
				// The rest of the file cannot be read (a truncated gzip, an
				// I/O error): record where it broke and go on with the next.
				c.fileBad = &quarantined{source: "ehr", file: c.file, line: n + 1, entity: ent.Type, reason: fileReason(err)}
				break
			}
			c.lines = append(c.lines, append([]byte(nil), line...))
			c.nums = append(c.nums, n)
			seq++
			if len(c.lines) == size {
				if !send(c) {
					lr.Close()
					return
				}
				c = &chunk{file: c.file, seq: seq}
			}
		}
		lr.Close()
		if len(c.lines) > 0 || len(c.tooLong) > 0 || c.fileBad != nil {
			if !send(c) {
				return
			}
		}
	}
}

// mapChunks maps chunks until work is closed.
func mapChunks(ent *fhir.Entity, m *fhir.Mapper, work <-chan *chunk) {
	b := store.NewBatch(ent.Table)
	for c := range work {
		for i, line := range c.lines {
			if err := ent.Map(m, line, b, c.seq+int64(i)+1); err != nil {
				var re *fhir.RecordError
				if !errors.As(err, &re) {
					c.err = err
					break
				}
				c.bad = append(c.bad, quarantined{source: "ehr", file: c.file, line: c.nums[i], entity: ent.Type, reason: re.Reason})
				continue
			}
			c.loaded++
		}
		if b.Len() > 0 {
			c.rec = b.Flush()
		} else {
			b.Flush().Release()
		}
		c.lines = nil // free the raw lines early
		close(c.done)
	}
}
