package bulk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Sentinel errors. Export wraps one of these (test with errors.Is); when the
// server answered, the chain also holds an *HTTPError with the status and the
// OperationOutcome text.
var (
	// ErrInvalidOptions reports Options that New cannot use; the message
	// names the field to fix.
	ErrInvalidOptions = errors.New("invalid bulk client options")
	// ErrInvalidRequest reports a Request that cannot be sent (a Group
	// export without GroupID, a malformed resource type).
	ErrInvalidRequest = errors.New("invalid bulk export request")
	// ErrExportFailed reports that the server refused the kick-off or
	// reported the export job as failed (a 4xx, or a 5xx whose
	// OperationOutcome is not transient).
	ErrExportFailed = errors.New("bulk export failed")
	// ErrUnauthorized reports a 401 that a fresh token did not cure, or a
	// 401 when there was no token to refresh.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrRetriesExhausted reports a request that failed transiently (429,
	// 5xx, network, truncated download) more than Options.MaxRetries times.
	ErrRetriesExhausted = errors.New("retries exhausted")
	// ErrManifest reports a completion manifest that cannot be used
	// (malformed JSON, missing transactionTime, unsafe resource type, bad
	// URL).
	ErrManifest = errors.New("invalid completion manifest")
	// ErrDownload reports a file that could not be downloaded for a
	// reason retrying does not fix (404, 410, a 4xx).
	ErrDownload = errors.New("download failed")
	// ErrIncomplete reports a download that ended early or does not match
	// its Content-Length, its manifest count or a complete last line. It is
	// retried; Export returns it (with ErrRetriesExhausted) only when every
	// attempt was incomplete.
	ErrIncomplete = errors.New("incomplete download")
	// ErrTimeout reports that Options.Timeout ran out. It wraps
	// context.DeadlineExceeded.
	ErrTimeout = fmt.Errorf("bulk export timed out: %w", context.DeadlineExceeded)
	// ErrToken reports a failure to get an access token from the token
	// endpoint (refused, malformed response, network).
	ErrToken = errors.New("access token request failed")
	// ErrUnsupportedKey reports a private key that is neither RSA nor ECDSA
	// P-384, or PEM data without a usable unencrypted key.
	ErrUnsupportedKey = errors.New("unsupported private key")
)

// HTTPError is a failed answer from the FHIR server, its file server or the
// token endpoint. Unwrap returns the sentinel that classifies it
// (ErrExportFailed, ErrDownload, ErrUnauthorized, ErrToken).
type HTTPError struct {
	Op         string // "kick-off", "status", "download", "delete", "token"
	URL        string // without query or credentials
	StatusCode int
	// Outcome is the text of the OperationOutcome issues (diagnostics,
	// details.text or code), "; "-separated, or an OAuth error and its
	// description; empty when the body had neither.
	Outcome string
	Err     error
}

func (e *HTTPError) Error() string {
	s := fmt.Sprintf("%s %s: %d %s", e.Op, e.URL, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Outcome != "" {
		s += ": " + e.Outcome
	}
	return s
}

func (e *HTTPError) Unwrap() error { return e.Err }

// operationOutcome is the part of a FHIR OperationOutcome read here.
type operationOutcome struct {
	ResourceType string `json:"resourceType"`
	Issue        []struct {
		Severity    string `json:"severity"`
		Code        string `json:"code"`
		Diagnostics string `json:"diagnostics"`
		Details     struct {
			Text string `json:"text"`
		} `json:"details"`
	} `json:"issue"`
}

// maxErrorBody bounds how much of an error response is read.
const maxErrorBody = 1 << 20

// readOutcome reads an error body and returns its OperationOutcome text and
// whether every issue is marked transient (false when there is no
// OperationOutcome). The body is not closed.
func readOutcome(body io.Reader) (text string, transient bool, isOutcome bool) {
	b, _ := io.ReadAll(io.LimitReader(body, maxErrorBody))
	var oo operationOutcome
	if json.Unmarshal(b, &oo) != nil || oo.ResourceType != "OperationOutcome" {
		return "", false, false
	}
	var parts []string
	transient = len(oo.Issue) > 0
	for _, is := range oo.Issue {
		if is.Code != "transient" {
			transient = false
		}
		switch {
		case is.Diagnostics != "" && is.Details.Text != "" && is.Diagnostics != is.Details.Text:
			parts = append(parts, is.Details.Text+" ("+is.Diagnostics+")")
		case is.Details.Text != "":
			parts = append(parts, is.Details.Text)
		case is.Diagnostics != "":
			parts = append(parts, is.Diagnostics)
		default:
			parts = append(parts, is.Code)
		}
	}
	return strings.Join(parts, "; "), transient, true
}
