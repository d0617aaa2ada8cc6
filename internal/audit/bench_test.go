package audit

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkAppend: one durable append (write, fsync, anchor replaced and
// its folder fsynced), against a bare write+fsync of the same line as the
// anchor.
func BenchmarkAppend(b *testing.B) {
	l, err := Open(filepath.Join(b.TempDir(), "audit.log"))
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	e := Entry{Actor: "analyst:ana", Action: "export", Details: map[string]any{"rows": 1250, "snapshot_id": 42}}
	var appendT time.Duration
	for b.Loop() {
		start := time.Now()
		if err := l.Append(context.Background(), e); err != nil {
			b.Fatal(err)
		}
		appendT += time.Since(start)
	}
	line, _ := encode(&Entry{Seq: 1, Time: time.Now(), Actor: e.Actor, Action: e.Action, Details: e.Details, Prev: Genesis})
	f, err := os.OpenFile(filepath.Join(b.TempDir(), "bare.log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	start := time.Now()
	for range b.N {
		f.Write(line)
		f.Sync()
	}
	bare := time.Since(start)
	b.ReportMetric(float64(appendT.Microseconds())/float64(b.N), "µs/append")
	b.ReportMetric(appendT.Seconds()/bare.Seconds(), "x_write_fsync")
}
