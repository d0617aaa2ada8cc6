package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func openLog(t *testing.T, path string) *Log {
	t.Helper()
	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// writeLog writes n entries to a new log and closes it.
func writeLog(t *testing.T, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.log")
	l := openLog(t, path)
	for i := 1; i <= n; i++ {
		e := Entry{Actor: "analyst:ana", Action: "export", Time: time.Date(2026, 1, 2, 3, 4, i, 0, time.UTC),
			Details: map[string]any{"export_id": fmt.Sprintf("x%d", i), "rows": 100 * i}}
		if err := l.Append(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func readLines(t *testing.T, path string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.SplitAfter(b, []byte{'\n'})[:bytes.Count(b, []byte{'\n'})]
}

func writeLines(t *testing.T, path string, lines [][]byte) {
	t.Helper()
	if err := os.WriteFile(path, bytes.Join(lines, nil), 0o600); err != nil {
		t.Fatal(err)
	}
}

// rehash recomputes a line's own hash after an edit (what a careful forger
// does); the line keeps its newline.
func rehash(line []byte) []byte {
	body := line[:len(line)-1]
	i := bytes.LastIndex(body, []byte(hashKey))
	b := append(bytes.Clone(body[:i]), '}')
	return []byte(string(body[:i]) + hashKey + hashHex(b) + "\"}\n")
}

func TestAppendAndVerify(t *testing.T) {
	path := writeLog(t, 5)
	if n, err := Verify(path); n != 5 || err != nil {
		t.Fatalf("Verify = %d, %v; want 5, nil", n, err)
	}
	// Reopening continues the chain.
	l := openLog(t, path)
	if seq, h := l.Head(); seq != 5 || h != hashHex(bytes.TrimSuffix(readLines(t, path)[4], []byte{'\n'})) {
		t.Fatalf("head %d %s", seq, h)
	}
	before := time.Now().UTC()
	loc := time.FixedZone("EST", -5*3600)
	for _, e := range []Entry{
		{Actor: "etl", Action: "privacy.erase", Details: map[string]any{"patient_id": "3a551f0ce99707fc", "rows": 17, "snapshot_id": int64(4)}},
		{Actor: "analyst:bo", Action: "query.refused", Time: time.Date(2026, 3, 1, 9, 0, 0, 5, loc),
			Details: map[string]any{"metric": "pdc_statins", "reasons": []string{"small_cell"}, "share": 0.25, "ok": false}},
	} {
		if err := l.Append(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := l.Verify(); n != 7 || err != nil {
		t.Fatalf("Log.Verify = %d, %v; want 7, nil", n, err)
	}
	l.Close()
	lines := readLines(t, path)
	if len(lines) != 7 {
		t.Fatalf("%d lines", len(lines))
	}
	prev := Genesis
	for i, line := range lines {
		e, err := parseLine(bytes.TrimSuffix(line, []byte{'\n'}))
		if err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		if e.Seq != int64(i+1) || e.Prev != prev {
			t.Fatalf("line %d: seq %d prev %s, want prev %s", i+1, e.Seq, e.Prev, prev)
		}
		prev = hashHex(bytes.TrimSuffix(line, []byte{'\n'}))
	}
	e6, _ := parseLine(bytes.TrimSuffix(lines[5], []byte{'\n'}))
	if e6.Action != "privacy.erase" || e6.Time.Before(before.Add(-time.Second)) || e6.Time.Location() != time.UTC ||
		fmt.Sprint(e6.Details) != "map[patient_id:3a551f0ce99707fc rows:17 snapshot_id:4]" {
		t.Errorf("line 6: %+v", e6)
	}
	e7, _ := parseLine(bytes.TrimSuffix(lines[6], []byte{'\n'}))
	if !e7.Time.Equal(time.Date(2026, 3, 1, 14, 0, 0, 5, time.UTC)) || !strings.Contains(string(lines[6]), `"time":"2026-03-01T14:00:00.000000005Z"`) {
		t.Errorf("line 7 time %v: %s", e7.Time, lines[6])
	}
	if !strings.HasPrefix(string(lines[0]), `{"seq":1,"time":"2026-01-02T03:04:01Z","actor":"analyst:ana","action":"export","details":{"export_id":"x1","rows":100},"prev":"`+Genesis+`","hash":"`) {
		t.Errorf("line 1 format: %s", lines[0])
	}
}

// TestTamperingDetectedAtLine: every way of damaging every line of a log is
// reported by Verify at that line (and by Open when it touches the tail).
func TestTamperingDetectedAtLine(t *testing.T) {
	const n = 6
	orig := readLines(t, writeLog(t, n))
	edit := func(line []byte) []byte {
		return bytes.Replace(line, []byte(`"actor":"analyst:ana"`), []byte(`"actor":"analyst:eve"`), 1)
	}
	type damage struct {
		name string
		do   func(lines [][]byte, k int) [][]byte // k is 0-based
		line func(k int) int                      // the line Verify must name
	}
	at := func(k int) int { return k + 1 }
	damages := []damage{
		{"edit", func(ls [][]byte, k int) [][]byte { ls[k] = edit(ls[k]); return ls }, at},
		{"edit and rehash", func(ls [][]byte, k int) [][]byte { ls[k] = rehash(edit(ls[k])); return ls }, at},
		{"delete", func(ls [][]byte, k int) [][]byte { return append(ls[:k], ls[k+1:]...) }, at},
		{"truncate inside", func(ls [][]byte, k int) [][]byte { ls[k] = ls[k][:len(ls[k])/2]; return ls[:k+1] }, at},
		{"truncate before", func(ls [][]byte, k int) [][]byte { return ls[:k] }, at},
		{"truncate newline", func(ls [][]byte, k int) [][]byte { ls[k] = ls[k][:len(ls[k])-1]; return ls[:k+1] }, at},
		{"blank line", func(ls [][]byte, k int) [][]byte {
			return append(ls[:k], append([][]byte{[]byte("\n")}, ls[k:]...)...)
		}, at},
	}
	for _, d := range damages {
		for k := 0; k < n; k++ {
			path := filepath.Join(t.TempDir(), "audit.log")
			lines := make([][]byte, n)
			for i := range orig {
				lines[i] = bytes.Clone(orig[i])
			}
			writeLines(t, path, d.do(lines, k))
			os.WriteFile(path+".head", anchorOf(t, orig), 0o600)
			got, err := Verify(path)
			var ce *ChainError
			if !errors.As(err, &ce) || !errors.Is(err, ErrTampered) || ce.Line != d.line(k) || got != ce.Line-1 {
				t.Errorf("%s line %d: Verify = %d, %v; want line %d", d.name, k+1, got, err, d.line(k))
			}
			if _, err := Open(path); k >= n-2 && d.name != "blank line" && !errors.Is(err, ErrTampered) {
				t.Errorf("%s line %d: Open accepted a damaged tail (%v)", d.name, k+1, err)
			}
		}
	}
	// Reordering two lines is reported at the first of them.
	for k := 0; k+1 < n; k++ {
		path := filepath.Join(t.TempDir(), "audit.log")
		lines := make([][]byte, n)
		copy(lines, orig)
		lines[k], lines[k+1] = lines[k+1], lines[k]
		writeLines(t, path, lines)
		os.WriteFile(path+".head", anchorOf(t, orig), 0o600)
		if got, err := Verify(path); !isLine(err, k+1) || got != k {
			t.Errorf("swap %d,%d: Verify = %d, %v", k+1, k+2, got, err)
		}
	}
}

func anchorOf(t *testing.T, lines [][]byte) []byte {
	t.Helper()
	last := bytes.TrimSuffix(lines[len(lines)-1], []byte{'\n'})
	b, _ := json.Marshal(anchor{int64(len(lines)), hashHex(last)})
	return append(b, '\n')
}

func isLine(err error, line int) bool {
	var ce *ChainError
	return errors.As(err, &ce) && ce.Line == line && errors.Is(err, ErrTampered)
}

// TestAnchor: the anchor catches what the chain alone cannot (lines deleted
// at the end, a rewritten last line), is required, and is repaired after an
// append that stopped before it.
func TestAnchor(t *testing.T) {
	path := writeLog(t, 4)
	lines := readLines(t, path)

	// Anchor missing: the end cannot be confirmed.
	os.Rename(path+".head", path+".head.bak")
	if _, err := Verify(path); !isLine(err, 1) {
		t.Errorf("anchor missing: %v", err)
	}
	if _, err := Open(path); !errors.Is(err, ErrTampered) {
		t.Errorf("Open without anchor: %v", err)
	}
	os.Rename(path+".head.bak", path+".head")

	// An anchor one entry behind with the right hash: the last append
	// reached the disk, not its anchor. Verify accepts it, Open repairs it.
	stale, _ := json.Marshal(anchor{3, hashHex(bytes.TrimSuffix(lines[2], []byte{'\n'}))})
	os.WriteFile(path+".head", stale, 0o600)
	if n, err := Verify(path); n != 4 || err != nil {
		t.Errorf("unanchored last append: Verify = %d, %v", n, err)
	}
	l := openLog(t, path)
	l.Close()
	if b, _ := os.ReadFile(path + ".head"); !bytes.Equal(b, anchorOf(t, lines)) {
		t.Errorf("anchor not repaired: %s", b)
	}
	// Two entries beyond the anchor: not anchored, from the first.
	stale, _ = json.Marshal(anchor{2, hashHex(bytes.TrimSuffix(lines[1], []byte{'\n'}))})
	os.WriteFile(path+".head", stale, 0o600)
	if _, err := Verify(path); !isLine(err, 3) {
		t.Errorf("two unanchored entries: %v", err)
	}
	// An anchor naming another hash for the last line.
	bad, _ := json.Marshal(anchor{4, Genesis})
	os.WriteFile(path+".head", bad, 0o600)
	if _, err := Verify(path); !isLine(err, 4) {
		t.Errorf("anchor hash differs: %v", err)
	}
}

// TestInterruptedAppend: a last line without newline after anchored entries
// is an append never acknowledged: Verify ignores it, Open removes it and
// the chain goes on.
func TestInterruptedAppend(t *testing.T) {
	path := writeLog(t, 3)
	f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString(`{"seq":4,"time":"2026-01-02T0`)
	f.Close()
	if n, err := Verify(path); n != 3 || err != nil {
		t.Fatalf("Verify = %d, %v", n, err)
	}
	l := openLog(t, path)
	if err := l.Append(context.Background(), Entry{Actor: "etl", Action: "export"}); err != nil {
		t.Fatal(err)
	}
	l.Close()
	if n, err := Verify(path); n != 4 || err != nil {
		t.Fatalf("after repair: Verify = %d, %v", n, err)
	}
	// Likewise for the very first append.
	path = filepath.Join(t.TempDir(), "audit.log")
	os.WriteFile(path, []byte(`{"seq":1,"ti`), 0o600)
	l = openLog(t, path)
	if err := l.Append(context.Background(), Entry{Actor: "etl", Action: "export"}); err != nil {
		t.Fatal(err)
	}
	l.Close()
	if n, err := Verify(path); n != 1 || err != nil {
		t.Fatalf("first append repaired: Verify = %d, %v", n, err)
	}
}

// TestConcurrentAppends (run with -race): entries appended from many
// goroutines form one valid chain holding every entry once.
func TestConcurrentAppends(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	l := openLog(t, path)
	const workers, each = 8, 40
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if err := l.Append(context.Background(), Entry{Actor: fmt.Sprintf("worker:%d", w), Action: "query.refused",
					Details: map[string]any{"i": i}}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if seq, _ := l.Head(); seq != workers*each {
		t.Errorf("head seq %d", seq)
	}
	l.Close()
	if n, err := Verify(path); n != workers*each || err != nil {
		t.Fatalf("Verify = %d, %v", n, err)
	}
	seen := map[string]bool{}
	for _, line := range readLines(t, path) {
		e, _ := parseLine(bytes.TrimSuffix(line, []byte{'\n'}))
		seen[fmt.Sprint(e.Actor, e.Details["i"])] = true
	}
	if len(seen) != workers*each {
		t.Errorf("%d distinct entries, want %d", len(seen), workers*each)
	}
}

func TestFileModesAndLock(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	l := openLog(t, path)
	if err := l.Append(context.Background(), Entry{Actor: "etl", Action: "export"}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + ".head"} {
		if st, err := os.Stat(p); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, %v; want 0600", p, st.Mode().Perm(), err)
		}
	}
	if _, err := Open(path); !errors.Is(err, ErrLocked) {
		t.Errorf("second Open: %v, want ErrLocked", err)
	}
	l.Close()
	if err := l.Append(context.Background(), Entry{Actor: "etl", Action: "export"}); !errors.Is(err, ErrClosed) {
		t.Errorf("Append after Close: %v", err)
	}
	// An existing log readable by others is tightened.
	os.Chmod(path, 0o644)
	l = openLog(t, path)
	defer l.Close()
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("mode after Open: %v", st.Mode().Perm())
	}
}

func TestInvalidEntries(t *testing.T) {
	l := openLog(t, filepath.Join(t.TempDir(), "audit.log"))
	defer l.Close()
	long := strings.Repeat("x", 300)
	for _, e := range []Entry{
		{Action: "export"},
		{Actor: "etl"},
		{Actor: "etl", Action: "Export"},
		{Actor: "etl", Action: "export now"},
		{Actor: "a\nb", Action: "export"},
		{Actor: "etl", Action: "export", Seq: 3},
		{Actor: "etl", Action: "export", Prev: Genesis},
		{Actor: "etl", Action: "export", Details: map[string]any{"Name": "x"}},
		{Actor: "etl", Action: "export", Details: map[string]any{"note": long}},
		{Actor: "etl", Action: "export", Details: map[string]any{"patient": map[string]any{"name": "x"}}},
		{Actor: "etl", Action: "export", Details: map[string]any{"when": time.Now()}},
		{Actor: "etl", Action: "export", Details: map[string]any{"ratio": 0 / zero()}},
	} {
		if err := l.Append(context.Background(), e); !errors.Is(err, ErrInvalidEntry) {
			t.Errorf("%+v: %v, want ErrInvalidEntry", e, err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.Append(ctx, Entry{Actor: "etl", Action: "export"}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	if seq, _ := l.Head(); seq != 0 {
		t.Errorf("refused entries were written: head %d", seq)
	}
}

func zero() float64 { return 0 }
