package bulk

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// maxLastLine bounds the unterminated last line read back to check that it
// is complete JSON; a longer one is not checked.
const maxLastLine = 64 << 20

// fileStats describes a verified download.
type fileStats struct {
	bytes int64 // written, after decompression
	lines int64 // non-blank lines
}

// downloadAll fetches every job into dir with c.concurrency workers. The
// first failure cancels the rest and is returned.
func (r *run) downloadAll(ctx context.Context, jobs []fileJob, dir string, withToken, ndjson bool) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var (
		wg       sync.WaitGroup
		once     sync.Once
		firstErr error
		mu       sync.Mutex
		done     int
	)
	ch := make(chan fileJob)
	for range min(r.c.concurrency, len(jobs)) {
		wg.Go(func() {
			for j := range ch {
				if ctx.Err() != nil {
					continue
				}
				st, err := r.download(ctx, j, dir, withToken, ndjson)
				if err != nil {
					once.Do(func() { firstErr = err; cancel(err) })
					continue
				}
				r.log.Info("file downloaded", "kind", j.kind, "type", j.typ, "file", j.local,
					"bytes", st.bytes, "lines", st.lines)
				mu.Lock()
				done++
				n := done
				mu.Unlock()
				r.report(Status{Phase: PhaseDownloading, Text: fmt.Sprintf("%d of %d files", n, len(jobs)),
					Percent: 100 * float64(n) / float64(len(jobs)), FilesDone: n, Files: len(jobs)})
			}
		})
	}
feed:
	for _, j := range jobs {
		select {
		case ch <- j:
		case <-ctx.Done():
			break feed
		}
	}
	close(ch)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return context.Cause(ctx)
}

// download fetches one file, retrying an incomplete download up to
// MaxRetries times, each attempt from the start.
func (r *run) download(ctx context.Context, j fileJob, dir string, withToken, ndjson bool) (fileStats, error) {
	for attempt := 0; ; attempt++ {
		st, err := r.fetch(ctx, j, dir, withToken, ndjson)
		if err == nil {
			return st, nil
		}
		if ctx.Err() != nil {
			return st, fmt.Errorf("download %s: %w", j.local, context.Cause(ctx))
		}
		if !errors.Is(err, ErrIncomplete) {
			return st, fmt.Errorf("download %s: %w", j.local, err)
		}
		if attempt >= r.c.maxRetries {
			return st, fmt.Errorf("download %s: %w after %d attempts: %w", j.local, ErrRetriesExhausted, attempt+1, err)
		}
		wait := r.c.backoff(attempt)
		r.log.Warn("incomplete download; retrying", "file", j.local, "url", redact(j.src),
			"attempt", attempt+1, "wait_ms", wait.Milliseconds(), "error", err.Error())
		if err := r.c.sleep(ctx, wait); err != nil {
			return st, fmt.Errorf("download %s: %w", j.local, err)
		}
	}
}

// fetch makes one download attempt into dir/j.local, through a ".part" file
// renamed into place only once verified.
func (r *run) fetch(ctx context.Context, j fileJob, dir string, withToken, ndjson bool) (fileStats, error) {
	var st fileStats
	accept := r.format
	if accept == "" || isNDJSON(accept) {
		accept = DefaultOutputFormat
	}
	resp, err := r.c.do(ctx, call{
		op: "download", method: http.MethodGet, url: j.src,
		header: http.Header{"Accept": {accept}, "Accept-Encoding": {"gzip"}},
		auth:   withToken, fail: ErrDownload, retries: -1,
	})
	if err != nil {
		return st, err
	}
	defer drain(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return st, &HTTPError{Op: "download", URL: redact(j.src), StatusCode: resp.StatusCode, Err: ErrDownload}
	}

	raw := &countingReader{r: resp.Body}
	br := bufio.NewReaderSize(raw, 64<<10)
	var body io.Reader = br
	switch enc := strings.ToLower(strings.TrimSpace(resp.Header.Get("Content-Encoding"))); enc {
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(br)
		if err != nil {
			return st, fmt.Errorf("%w: gzip header: %w", ErrIncomplete, err)
		}
		body = zr
	case "", "identity":
		// A server storing .ndjson.gz objects may serve them without a
		// Content-Encoding; NDJSON never starts with the gzip magic.
		if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
			zr, err := gzip.NewReader(br)
			if err != nil {
				return st, fmt.Errorf("%w: gzip header: %w", ErrIncomplete, err)
			}
			body = zr
		}
	default:
		return st, fmt.Errorf("%w: %s: unsupported Content-Encoding %q", ErrDownload, redact(j.src), enc)
	}

	final := filepath.Join(dir, filepath.FromSlash(j.local))
	if err := os.MkdirAll(filepath.Dir(final), 0o750); err != nil {
		return st, err
	}
	part := final + ".part"
	f, err := os.OpenFile(part, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return st, err
	}
	renamed := false
	defer func() {
		f.Close()
		if !renamed {
			os.Remove(part)
		}
	}()
	bw := bufio.NewWriterSize(f, 256<<10)
	lc := &lineCounter{w: bw}
	if _, err := io.Copy(lc, body); err != nil {
		return st, fmt.Errorf("%w: %s after %d bytes: %w", ErrIncomplete, redact(j.src), raw.n, err)
	}
	if err := bw.Flush(); err != nil {
		return st, err
	}
	st = fileStats{bytes: lc.n, lines: lc.finalLines()}
	if resp.ContentLength >= 0 && raw.n != resp.ContentLength {
		return st, fmt.Errorf("%w: %s: %d bytes received, Content-Length %d", ErrIncomplete, redact(j.src), raw.n, resp.ContentLength)
	}
	if ndjson {
		if lc.n > 0 && !lc.endsNewline() {
			ok, err := completeJSON(f, lc.lineStart, lc.n-lc.lineStart)
			if err != nil {
				return st, err
			}
			if !ok {
				return st, fmt.Errorf("%w: %s: last line is cut short", ErrIncomplete, redact(j.src))
			}
		}
		if j.count > 0 && st.lines != j.count {
			return st, fmt.Errorf("%w: %s: %d lines, manifest count %d", ErrIncomplete, redact(j.src), st.lines, j.count)
		}
	}
	if err := f.Sync(); err != nil {
		return st, err
	}
	if err := f.Close(); err != nil {
		return st, err
	}
	if err := os.Rename(part, final); err != nil {
		return st, err
	}
	renamed = true
	return st, nil
}

// completeJSON reports whether the n bytes at off in f are one complete JSON
// value (or blank). A line over maxLastLine is assumed complete.
func completeJSON(f *os.File, off, n int64) (bool, error) {
	if n > maxLastLine {
		return true, nil
	}
	b := make([]byte, n)
	if _, err := f.ReadAt(b, off); err != nil {
		return false, err
	}
	b = bytes.TrimSpace(b)
	return len(b) == 0 || json.Valid(b), nil
}

// countingReader counts the bytes read from the wire (before gunzip), to
// compare with Content-Length.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// lineCounter passes bytes through to w, counting non-blank lines and
// remembering where the last line starts.
type lineCounter struct {
	w         io.Writer
	n         int64 // bytes written
	lines     int64 // non-blank lines ended by a newline
	lineStart int64 // offset of the current (last) line
	content   bool  // the current line has a non-blank byte
	last      byte
}

func (l *lineCounter) Write(p []byte) (int, error) {
	n, err := l.w.Write(p)
	for rest, off := p[:n], l.n; len(rest) > 0; {
		i := bytes.IndexByte(rest, '\n')
		seg := rest
		if i >= 0 {
			seg = rest[:i]
		}
		if !l.content && len(bytes.TrimLeft(seg, " \t\r")) > 0 {
			l.content = true
		}
		if i < 0 {
			break
		}
		if l.content {
			l.lines++
		}
		l.content = false
		off += int64(i) + 1
		l.lineStart = off
		rest = rest[i+1:]
	}
	if n > 0 {
		l.n += int64(n)
		l.last = p[n-1]
	}
	return n, err
}

// endsNewline reports whether the stream so far ends with a newline; when it
// does not, the unterminated last line is counted.
func (l *lineCounter) endsNewline() bool { return l.last == '\n' }

// finalLines is lines plus an unterminated non-blank last line.
func (l *lineCounter) finalLines() int64 {
	if l.content {
		return l.lines + 1
	}
	return l.lines
}
