package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode"
)

// Genesis is the prev of the first entry: the hex SHA-256 of
// "carelens audit log v1".
var Genesis = hashHex([]byte("carelens audit log v1"))

// Errors. A *ChainError wraps ErrTampered.
var (
	// ErrTampered reports a log whose chain or anchor does not hold.
	ErrTampered = errors.New("audit log tampered with or damaged")
	// ErrLocked reports a log already open for appending (by this or
	// another process).
	ErrLocked = errors.New("audit log is open elsewhere")
	// ErrClosed is returned by Append after Close.
	ErrClosed = errors.New("audit log closed")
	// ErrInvalidEntry reports an entry Append refuses (see Entry).
	ErrInvalidEntry = errors.New("invalid audit entry")
	// ErrBroken is returned by Append after a write or sync failed: the
	// file's state is unknown until it is reopened (and so verified).
	ErrBroken = errors.New("audit log unusable after a failed write")
)

// MaxLine is the largest line Append writes, in bytes.
const MaxLine = 16 << 10

// Entry is one audited action.
type Entry struct {
	// Seq and Prev are set by Append; Hash is the line's own hash. Callers
	// leave them empty.
	Seq int64 `json:"seq"`
	// Time is when it happened, stored in UTC; Append sets the zero time to
	// now.
	Time time.Time `json:"time"`
	// Actor is who did it: a role or user name ("analyst:ana", "etl").
	// Required, at most 128 characters, no control characters.
	Actor string `json:"actor"`
	// Action names what was done, dotted lower case: "privacy.erase",
	// "query.refused", "export". Required.
	Action string `json:"action"`
	// Details are ids, counts and names: keys of lower-case letters, digits,
	// '_' and '.' (at most 64), values strings of at most 256 bytes, bools,
	// integers, finite floats, or slices of strings or integers (at most 64
	// items). Never PHI: see the package documentation.
	Details map[string]any `json:"details,omitempty"`
	Prev    string         `json:"prev"`
	Hash    string         `json:"-"`
}

// ChainError says where a log stops being trustworthy.
type ChainError struct {
	Line   int // 1-based line of the first entry that cannot be trusted; 0 = unknown
	Reason string
}

func (e *ChainError) Error() string {
	if e.Line == 0 {
		return "audit log: " + e.Reason
	}
	return fmt.Sprintf("audit log line %d: %s", e.Line, e.Reason)
}

// Unwrap makes errors.Is(err, ErrTampered) hold.
func (e *ChainError) Unwrap() error { return ErrTampered }

// Log is an audit log open for appending. It is safe for concurrent use;
// one Log per file at a time (Open locks it).
type Log struct {
	path string
	mu   sync.Mutex
	f    *os.File
	seq  int64
	prev string // hash of the last line: the next entry's prev
	size int64
	err  error // set after a failed write: ErrBroken
	now  func() time.Time
}

// anchorPath is the head anchor of a log.
func anchorPath(path string) string { return path + ".head" }

type anchor struct {
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
}

// Open opens the log at path for appending, creating it (mode 0600, and
// tightening an existing file's mode to 0600) when missing. It locks the
// file against other writers (ErrLocked) and checks the tail: the last
// line's own hash, its link to the line before, and the anchor. An
// interrupted append (a last line without newline beyond the anchor, never
// acknowledged) is removed; an append whose anchor update was lost is
// accepted. A broken tail gives an error wrapping ErrTampered: run Verify
// for the first broken line. Open does not read the whole file.
func Open(path string) (*Log, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			f.Close()
		}
	}()
	if err := lockFile(f); err != nil {
		return nil, fmt.Errorf("open audit log %s: %w", path, err)
	}
	if err := f.Chmod(0o600); err != nil {
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	l := &Log{path: path, f: f, prev: Genesis, size: st.Size(), now: time.Now}
	if err := l.checkTail(); err != nil {
		return nil, err
	}
	if st.Size() == 0 {
		if err := syncDir(filepath.Dir(path)); err != nil {
			return nil, fmt.Errorf("open audit log: %w", err)
		}
	}
	ok = true
	return l, nil
}

// checkTail reads the last lines and the anchor and sets seq, prev and size.
func (l *Log) checkTail() error {
	a, hasAnchor, err := readAnchor(l.path)
	if err != nil {
		return err
	}
	lines, partial, start, err := tail(l.f, l.size, 2)
	if err != nil {
		return fmt.Errorf("open audit log: %w", err)
	}
	t := tailState{last: Genesis, partial: partial > 0}
	if len(lines) > 0 {
		last, perr := parseLine(lines[len(lines)-1])
		if perr != nil {
			if len(lines) == 2 {
				if e, err := parseLine(lines[0]); err == nil {
					return &ChainError{Line: int(e.Seq) + 1, Reason: perr.Error()}
				}
			} else if off := l.size - int64(partial) - int64(len(lines[0])) - 1; off == 0 {
				return &ChainError{Line: 1, Reason: perr.Error()}
			}
			return &ChainError{Reason: "last line: " + perr.Error() + " (verify the log for the first broken line)"}
		}
		if len(lines) == 2 {
			if hashHex(lines[0]) != last.Prev {
				return &ChainError{Line: int(last.Seq) - 1, Reason: prevMismatch(int(last.Seq))}
			}
		} else if last.Seq != 1 || last.Prev != Genesis {
			return &ChainError{Line: int(last.Seq), Reason: "does not start the chain"}
		}
		t.n, t.last, t.lastPrev = last.Seq, hashHex(lines[len(lines)-1]), last.Prev
	}
	repair, cerr := judgeTail(t, a, hasAnchor, l.path)
	if cerr != nil {
		return cerr
	}
	if repair {
		// The last append reached the disk but not its anchor.
		if err := writeAnchor(l.path, anchor{t.n, t.last}); err != nil {
			return fmt.Errorf("open audit log: %w", err)
		}
	}
	if partial > 0 {
		// An append interrupted before its fsync: never acknowledged.
		if err := l.f.Truncate(start); err != nil {
			return fmt.Errorf("open audit log: remove interrupted append: %w", err)
		}
		if err := l.f.Sync(); err != nil {
			return fmt.Errorf("open audit log: %w", err)
		}
		l.size = start
	}
	l.seq, l.prev = t.n, t.last
	return nil
}

func prevMismatch(next int) string {
	return fmt.Sprintf("changed: it does not match the prev of line %d (or that prev was changed)", next)
}

// tailState is what the end of a log shows.
type tailState struct {
	n        int64  // complete entries: the seq of the last
	last     string // hash of the last line (Genesis when n == 0)
	lastPrev string // prev of the last line
	partial  bool   // an unterminated line follows
}

// judgeTail compares the end of a log with its anchor (a missing anchor
// counts as one of an empty log). repair: the last entry is on disk but was
// not anchored (an append stopped between the two), so the anchor should be
// rewritten. An unterminated line after anchored entries is an append
// interrupted before it was acknowledged, not an error.
func judgeTail(t tailState, a anchor, hasAnchor bool, path string) (repair bool, err *ChainError) {
	if !hasAnchor {
		a = anchor{0, Genesis}
	}
	switch {
	case a.Seq == t.n && a.Hash == t.last:
		return false, nil
	case a.Seq == t.n:
		return false, &ChainError{Line: int(t.n), Reason: "changed: it does not match the anchor"}
	case a.Seq == t.n-1 && a.Hash == t.lastPrev && !t.partial:
		return true, nil
	case a.Seq > t.n && t.partial:
		return false, &ChainError{Line: int(t.n) + 1, Reason: fmt.Sprintf("truncated: the line is incomplete and the anchor records %d entries", a.Seq)}
	case a.Seq > t.n:
		return false, &ChainError{Line: int(t.n) + 1, Reason: fmt.Sprintf("missing: the log ends after %d entries, the anchor records %d", t.n, a.Seq)}
	case !hasAnchor:
		return false, &ChainError{Line: 1, Reason: fmt.Sprintf("cannot be confirmed: anchor %s missing", anchorPath(path))}
	}
	return false, &ChainError{Line: int(a.Seq) + 1, Reason: fmt.Sprintf("not anchored: the anchor records %d entries, the log %d", a.Seq, t.n)}
}

// tail returns up to n complete last lines of f (without newlines), the
// length of an unterminated last line, and where that line starts.
func tail(f *os.File, size int64, n int) (lines [][]byte, partial int, partialStart int64, err error) {
	var buf []byte
	off := size
	const chunk = 32 << 10
	limit := int64(n+1) * (MaxLine + 1)
	for off > 0 && int64(len(buf)) < limit {
		k := min(int64(chunk), off)
		off -= k
		b := make([]byte, k)
		if _, err := f.ReadAt(b, off); err != nil && err != io.EOF {
			return nil, 0, 0, err
		}
		buf = append(b, buf...)
		if bytes.Count(buf, []byte{'\n'}) > n {
			break
		}
	}
	end := len(buf)
	if i := bytes.LastIndexByte(buf, '\n'); i+1 < end {
		partial = end - (i + 1)
		end = i + 1
	}
	partialStart = size - int64(partial)
	for end > 0 && len(lines) < n {
		j := bytes.LastIndexByte(buf[:end-1], '\n')
		if j < 0 && off > 0 {
			break // the line starts before what was read: longer than MaxLine
		}
		lines = append([][]byte{buf[j+1 : end-1]}, lines...)
		end = j + 1
	}
	return lines, partial, partialStart, nil
}

// Head returns the seq and hash of the last entry (0 and Genesis for an
// empty log): record it elsewhere to detect a rewrite of the whole log.
func (l *Log) Head() (seq int64, hash string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.seq, l.prev
}

// Append writes e as the next entry and returns once it is on disk (the
// file is fsynced, then the anchor replaced). Entries of concurrent calls
// are chained in the order they take the log. It returns ctx's error if ctx
// is done before writing, a wrapped ErrInvalidEntry for an entry it refuses,
// ErrClosed after Close, and ErrBroken (wrapped with the cause) when a write
// fails; after such a failure every later Append fails too, and the log must
// be reopened.
func (l *Log) Append(ctx context.Context, e Entry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := validate(&e); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.f == nil:
		return ErrClosed
	case l.err != nil:
		return l.err
	}
	if e.Time.IsZero() {
		e.Time = l.now()
	}
	e.Time = e.Time.UTC()
	e.Seq, e.Prev = l.seq+1, l.prev
	line, err := encode(&e)
	if err != nil {
		return err
	}
	if _, err := l.f.WriteAt(line, l.size); err != nil {
		if terr := l.f.Truncate(l.size); terr != nil {
			l.err = fmt.Errorf("%w: %w", ErrBroken, err)
		}
		return fmt.Errorf("append audit entry: %w", err)
	}
	if err := l.f.Sync(); err != nil {
		l.err = fmt.Errorf("%w: %w", ErrBroken, err)
		return l.err
	}
	h := hashHex(line[:len(line)-1])
	l.seq, l.prev, l.size = e.Seq, h, l.size+int64(len(line))
	if err := writeAnchor(l.path, anchor{e.Seq, h}); err != nil {
		// The entry is on disk, its anchor is not: Open repairs one such
		// append, so stop here.
		l.err = fmt.Errorf("%w: entry %d written but not anchored: %w", ErrBroken, e.Seq, err)
		return l.err
	}
	return nil
}

// Close releases the log; later Appends return ErrClosed.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close() // closing the descriptor releases the lock
	l.f = nil
	return err
}

var (
	actionRe = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$`)
	keyRe    = regexp.MustCompile(`^[a-z][a-z0-9_.]{0,63}$`)
)

func validate(e *Entry) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidEntry, fmt.Sprintf(format, args...))
	}
	switch {
	case e.Seq != 0 || e.Prev != "" || e.Hash != "":
		return bad("seq, prev and hash are set by Append")
	case e.Actor == "" || len(e.Actor) > 128:
		return bad("actor must be 1 to 128 characters")
	case !actionRe.MatchString(e.Action) || len(e.Action) > 64:
		return bad("action %q: want dotted lower-case words (privacy.erase)", e.Action)
	case len(e.Details) > 64:
		return bad("more than 64 details")
	}
	for _, r := range e.Actor {
		if unicode.IsControl(r) {
			return bad("actor holds a control character")
		}
	}
	for k, v := range e.Details {
		if !keyRe.MatchString(k) {
			return bad("detail key %q: want lower-case letters, digits, '_' and '.'", k)
		}
		if err := checkValue(v); err != nil {
			return bad("detail %s: %v", k, err)
		}
	}
	return nil
}

func checkValue(v any) error {
	switch x := v.(type) {
	case nil, bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return nil
	case string:
		if len(x) > 256 {
			return errors.New("string longer than 256 bytes")
		}
		return nil
	case float32:
		return checkValue(float64(x))
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return errors.New("not a finite number")
		}
		return nil
	case []string:
		if len(x) > 64 {
			return errors.New("more than 64 items")
		}
		for _, s := range x {
			if len(s) > 256 {
				return errors.New("string longer than 256 bytes")
			}
		}
		return nil
	case []int:
		return checkLen(len(x))
	case []int64:
		return checkLen(len(x))
	}
	return fmt.Errorf("type %T not allowed (strings, numbers, bools, slices of strings or integers)", v)
}

func checkLen(n int) error {
	if n > 64 {
		return errors.New("more than 64 items")
	}
	return nil
}

// record is an entry as written, hash excluded: field order is the line's.
type record struct {
	Seq     int64          `json:"seq"`
	Time    string         `json:"time"`
	Actor   string         `json:"actor"`
	Action  string         `json:"action"`
	Details map[string]any `json:"details,omitempty"`
	Prev    string         `json:"prev"`
}

const hashKey = `,"hash":"`

// encode returns e's line, newline included.
func encode(e *Entry) ([]byte, error) {
	body, err := json.Marshal(record{e.Seq, e.Time.Format(time.RFC3339Nano), e.Actor, e.Action, e.Details, e.Prev})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidEntry, err)
	}
	h := hashHex(body)
	line := make([]byte, 0, len(body)+len(hashKey)+68)
	line = append(line, body[:len(body)-1]...)
	line = append(line, hashKey...)
	line = append(line, h...)
	line = append(line, "\"}\n"...)
	if len(line) > MaxLine {
		return nil, fmt.Errorf("%w: line of %d bytes exceeds %d", ErrInvalidEntry, len(line), MaxLine)
	}
	e.Hash = h
	return line, nil
}

// parseLine checks a line's own hash and form and returns its entry.
func parseLine(line []byte) (*Entry, error) {
	const suffixLen = len(hashKey) + 64 + 2 // ,"hash":"<64>"}
	if len(line) < suffixLen+2 || !bytes.HasSuffix(line, []byte(`"}`)) ||
		!bytes.Equal(line[len(line)-suffixLen:len(line)-suffixLen+len(hashKey)], []byte(hashKey)) {
		return nil, errors.New("malformed: no hash at the end")
	}
	h := string(line[len(line)-66 : len(line)-2])
	body := append(bytes.Clone(line[:len(line)-suffixLen]), '}')
	if hashHex(body) != h {
		return nil, errors.New("changed: its hash does not match its content")
	}
	var r record
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("malformed: %v", err)
	}
	t, err := time.Parse(time.RFC3339Nano, r.Time)
	if err != nil || !strings.HasSuffix(r.Time, "Z") {
		return nil, errors.New("malformed: time is not RFC 3339 UTC")
	}
	if r.Seq < 1 || len(r.Prev) != 64 || r.Actor == "" || r.Action == "" {
		return nil, errors.New("malformed: missing seq, prev, actor or action")
	}
	return &Entry{Seq: r.Seq, Time: t, Actor: r.Actor, Action: r.Action, Details: r.Details, Prev: r.Prev, Hash: h}, nil
}

func hashHex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func readAnchor(path string) (anchor, bool, error) {
	b, err := os.ReadFile(anchorPath(path))
	if errors.Is(err, os.ErrNotExist) {
		return anchor{}, false, nil
	}
	if err != nil {
		return anchor{}, false, fmt.Errorf("read audit anchor: %w", err)
	}
	var a anchor
	if err := json.Unmarshal(b, &a); err != nil || a.Seq < 0 || len(a.Hash) != 64 {
		return anchor{}, false, &ChainError{Line: 0, Reason: "anchor " + anchorPath(path) + " is malformed"}
	}
	return a, true, nil
}

// writeAnchor replaces the anchor atomically: temporary file, fsync,
// rename, fsync of the folder.
func writeAnchor(path string, a anchor) error {
	b, _ := json.Marshal(a)
	dst := anchorPath(path)
	tmp := dst + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, dst); err != nil {
		return err
	}
	return syncDir(filepath.Dir(dst))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return err
	}
	return nil
}
