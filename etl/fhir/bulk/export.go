package bulk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/carelens/carelens/internal/httpx"
)

// ManifestFile is the name of the manifest Export writes in destDir.
const ManifestFile = "manifest.json"

// run is the state of one Export.
type run struct {
	c      *Client
	log    *slog.Logger
	start  time.Time
	format string // the requested _outputFormat

	mu    sync.Mutex // serializes Progress calls
	polls int
}

// Export runs one bulk export and returns its manifest once every file is in
// destDir. It blocks until then, the context is done, Options.Timeout runs
// out, or the export fails.
//
// It kicks off req (GET with Accept: application/fhir+json and Prefer:
// respond-async), polls the status URL (Retry-After, else backoff between
// PollMin and PollMax), downloads every output, deleted and error file
// (streamed to disk, gunzipped, verified against Content-Length, the
// manifest's count and a complete last line, retried when incomplete), moves
// them into destDir as Type.000.ndjson, deleted/Bundle.000.ndjson and
// error/OperationOutcome.000.ndjson, and writes destDir/manifest.json last,
// with each URL replaced by the local name. A failed or cancelled Export
// leaves destDir as it was, except that an earlier manifest.json may have
// been removed if it fails while moving files in. Files of an earlier export
// that this one does not overwrite are left; the manifest names the files
// that belong to it.
//
// Once kicked off, the job is always ended with a best-effort DELETE of the
// status URL (bounded by a 10-second timeout, also when ctx is cancelled).
//
// Errors wrap ErrInvalidRequest, ErrExportFailed, ErrUnauthorized,
// ErrRetriesExhausted, ErrManifest, ErrDownload, ErrIncomplete, ErrToken,
// ErrTimeout, or the context's cause; when the server answered, an
// *HTTPError in the chain carries the status and the OperationOutcome text.
func (c *Client) Export(ctx context.Context, req Request, destDir string) (*Manifest, error) {
	kick, err := req.kickoffURL(c.base)
	if err != nil {
		return nil, err
	}
	if destDir == "" {
		return nil, fmt.Errorf("%w: destDir is empty", ErrInvalidRequest)
	}
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, c.timeout, ErrTimeout)
		defer cancel()
	}
	r := &run{c: c, start: c.now(), format: req.OutputFormat,
		log: c.log.With("level", req.Level.String())}
	if req.GroupID != "" {
		r.log = r.log.With("group", req.GroupID)
	}

	statusURL, err := r.kickoff(ctx, kick)
	if err != nil {
		return nil, fmt.Errorf("bulk export: %w", err)
	}
	defer r.deleteJob(ctx, statusURL)

	m, err := r.poll(ctx, statusURL)
	if err != nil {
		return nil, fmt.Errorf("bulk export: %w", err)
	}
	ext := ".ndjson"
	if !isNDJSON(req.OutputFormat) {
		ext = ""
	}
	jobs, err := plan(m, ext)
	if err != nil {
		return nil, fmt.Errorf("bulk export: %w", err)
	}
	r.log.Info("export ready", "outputs", len(m.Output), "deleted", len(m.Deleted), "errors", len(m.Error),
		"requires_access_token", m.RequiresAccessToken, "transaction_time", m.TransactionTime.Format(time.RFC3339))
	if len(m.Error) > 0 {
		r.log.Warn("server reported export errors", "error_files", len(m.Error))
	}

	if err := os.MkdirAll(destDir, 0o750); err != nil {
		return nil, fmt.Errorf("bulk export: %w", err)
	}
	staging, err := os.MkdirTemp(destDir, ".bulk-")
	if err != nil {
		return nil, fmt.Errorf("bulk export: %w", err)
	}
	defer os.RemoveAll(staging)
	if err := r.downloadAll(ctx, jobs, staging, m.RequiresAccessToken, isNDJSON(req.OutputFormat)); err != nil {
		return nil, fmt.Errorf("bulk export: %w", err)
	}

	local := localManifest(m, jobs)
	if err := publish(staging, destDir, jobs, local); err != nil {
		return nil, fmt.Errorf("bulk export: %w", err)
	}
	r.log.Info("export complete", "files", len(jobs), "polls", r.polls,
		"duration_ms", c.now().Sub(r.start).Milliseconds())
	return local, nil
}

// publish moves the verified files from staging into destDir and writes the
// manifest last, so a manifest.json in destDir always names complete files.
func publish(staging, destDir string, jobs []fileJob, m *Manifest) error {
	manifest := filepath.Join(destDir, ManifestFile)
	if err := os.Remove(manifest); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	for _, j := range jobs {
		to := filepath.Join(destDir, filepath.FromSlash(j.local))
		if err := os.MkdirAll(filepath.Dir(to), 0o750); err != nil {
			return err
		}
		if err := os.Rename(filepath.Join(staging, filepath.FromSlash(j.local)), to); err != nil {
			return err
		}
	}
	return writeJSONFile(manifest, m)
}

// kickoff sends the $export request and returns the absolute status URL.
func (r *run) kickoff(ctx context.Context, kick string) (string, error) {
	resp, err := r.c.do(ctx, call{
		op: "kick-off", method: http.MethodGet, url: kick,
		header: http.Header{"Accept": {"application/fhir+json"}, "Prefer": {"respond-async"}},
		auth:   true, fail: ErrExportFailed, retries: -1,
	})
	if err != nil {
		return "", err
	}
	defer drain(resp.Body)
	if resp.StatusCode != http.StatusAccepted {
		return "", &HTTPError{Op: "kick-off", URL: redact(kick), StatusCode: resp.StatusCode,
			Outcome: "expected 202 Accepted", Err: ErrExportFailed}
	}
	loc := resp.Header.Get("Content-Location")
	if loc == "" {
		return "", &HTTPError{Op: "kick-off", URL: redact(kick), StatusCode: resp.StatusCode,
			Outcome: "202 Accepted without Content-Location", Err: ErrExportFailed}
	}
	u, err := resp.Request.URL.Parse(loc)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return "", fmt.Errorf("kick-off: %w: Content-Location %q is not an http(s) URL", ErrExportFailed, redact(loc))
	}
	r.log.Info("export kicked off", "status_url", redact(u.String()))
	return u.String(), nil
}

// poll asks for the status until the completion manifest arrives.
func (r *run) poll(ctx context.Context, statusURL string) (*Manifest, error) {
	for n := 0; ; n++ {
		resp, err := r.c.do(ctx, call{
			op: "status", method: http.MethodGet, url: statusURL,
			header: http.Header{"Accept": {"application/json"}},
			auth:   true, fail: ErrExportFailed, retries: -1,
		})
		if err != nil {
			return nil, err
		}
		switch resp.StatusCode {
		case http.StatusOK:
			m, err := decodeManifest(resp.Body, statusURL)
			drain(resp.Body)
			r.polls++
			return m, err
		case http.StatusAccepted:
			drain(resp.Body)
			r.polls++
			text := resp.Header.Get("X-Progress")
			wait, ok := httpx.RetryAfter(resp.Header.Get("Retry-After"), r.c.now())
			if !ok {
				wait = r.c.backoff(n)
			}
			r.log.Debug("export in progress", "polls", r.polls, "progress", text, "wait_ms", wait.Milliseconds())
			r.report(Status{Phase: PhasePolling, Text: text, Percent: parsePercent(text), Polls: r.polls})
			if err := r.c.sleep(ctx, wait); err != nil {
				return nil, fmt.Errorf("status: %w", err)
			}
		default:
			drain(resp.Body)
			return nil, &HTTPError{Op: "status", URL: redact(statusURL), StatusCode: resp.StatusCode,
				Outcome: "expected 200 or 202", Err: ErrExportFailed}
		}
	}
}

// deleteJob tells the server the client is done with the job (or abandons
// it). Best effort: failures are logged.
func (r *run) deleteJob(ctx context.Context, statusURL string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), deleteTimeout)
	defer cancel()
	resp, err := r.c.do(ctx, call{
		op: "delete", method: http.MethodDelete, url: statusURL,
		header: http.Header{"Accept": {"application/fhir+json"}},
		auth:   true, fail: ErrExportFailed, retries: 1,
	})
	if err != nil {
		r.log.Warn("deleting export job failed", "status_url", redact(statusURL), "error", err.Error())
		return
	}
	drain(resp.Body)
	r.log.Info("export job deleted", "status_url", redact(statusURL), "status", resp.StatusCode)
}

// report calls Options.Progress, one call at a time.
func (r *run) report(s Status) {
	if r.c.progress == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	s.Elapsed = r.c.now().Sub(r.start)
	if s.Polls == 0 {
		s.Polls = r.polls
	}
	r.c.progress(s)
}
