package audit

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
)

// Verify reads the whole log at path and checks every line: its form, its
// own hash, its seq (entries are numbered from 1 without gaps, so deleted
// and reordered lines show) and its link to the line before, then the end
// against the anchor (lines deleted at the end, a truncated last line). It
// returns the number of entries verified before the first problem and, for
// a problem, a *ChainError (wrapping ErrTampered) naming that line: a line
// whose content was changed is named even when its own hash was recomputed,
// through the next line's prev. Verify only reads, without locking: for a
// log a Log is appending to, use that Log's Verify, or an append racing the
// read may look like an unanchored entry.
func Verify(path string) (int, error) {
	a, hasAnchor, err := readAnchor(path)
	if err != nil {
		return 0, err
	}
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("verify audit log: %w", err)
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 64<<10)
	t := tailState{last: Genesis}
	var anchored string // hash of line a.Seq
	n := 0
	for {
		line, err := r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			return n, &ChainError{Line: n + 1, Reason: "malformed: line too long"}
		}
		if err == io.EOF {
			t.partial = len(line) > 0
			break
		}
		if err != nil {
			return n, fmt.Errorf("verify audit log: %w", err)
		}
		line = bytes.TrimSuffix(line, []byte{'\n'})
		no := n + 1
		e, perr := parseLine(line)
		switch {
		case perr != nil:
			return n, &ChainError{Line: no, Reason: perr.Error()}
		case e.Seq > int64(no):
			return n, &ChainError{Line: no, Reason: fmt.Sprintf("missing: entry %d found where %d belongs (lines deleted or moved before it)", e.Seq, no)}
		case e.Seq < int64(no):
			return n, &ChainError{Line: no, Reason: fmt.Sprintf("out of order: entry %d found where %d belongs", e.Seq, no)}
		case e.Prev != t.last && no == 1:
			return n, &ChainError{Line: 1, Reason: "does not start the chain"}
		case e.Prev != t.last:
			// This line's own hash holds, so its prev is what was written:
			// the line before changed.
			return n - 1, &ChainError{Line: no - 1, Reason: prevMismatch(no)}
		}
		t.n, t.lastPrev, t.last = e.Seq, e.Prev, hashHex(line)
		if e.Seq == a.Seq {
			anchored = t.last
		}
		n = no
	}
	if _, cerr := judgeTail(t, a, hasAnchor, path); cerr != nil {
		return min(n, cerr.Line-1), cerr
	}
	if hasAnchor && a.Seq > 0 && a.Seq < t.n && anchored != a.Hash {
		return int(a.Seq) - 1, &ChainError{Line: int(a.Seq), Reason: "changed: it does not match the anchor"}
	}
	return n, nil
}

// Verify verifies the whole log like the function Verify, with appends held
// until it is done.
func (l *Log) Verify() (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return Verify(l.path)
}
