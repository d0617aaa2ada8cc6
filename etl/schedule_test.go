package etl

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"
)

type fakeJob struct {
	name  string
	block chan struct{}
	err   error
	panic bool
	mu    sync.Mutex
	runs  int
}

func (f *fakeJob) Name() string { return f.name }
func (f *fakeJob) Run(ctx context.Context) (*Result, error) {
	f.mu.Lock()
	f.runs++
	f.mu.Unlock()
	if f.block != nil {
		<-f.block
	}
	if f.panic {
		panic("boom")
	}
	return &Result{RunID: "r-" + f.name}, f.err
}

func TestSchedulerSkipsRecoversAndRecords(t *testing.T) {
	s := NewScheduler(slog.New(slog.DiscardHandler), time.Minute)
	slow := &fakeJob{name: "slow", block: make(chan struct{})}
	done := make(chan bool)
	go func() { done <- s.RunNow(slow) }()
	for {
		if h := health(s, "slow"); h.Running {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if s.RunNow(slow) {
		t.Fatal("second run started while the first was running")
	}
	close(slow.block)
	if !<-done {
		t.Fatal("first run did not run")
	}
	if h := health(s, "slow"); h.Runs != 1 || h.Skipped != 1 || h.LastStatus != "succeeded" || h.LastRunID != "r-slow" {
		t.Fatalf("health %+v", h)
	}

	s.RunNow(&fakeJob{name: "bad", err: errors.New("source unreachable")})
	if h := health(s, "bad"); h.LastStatus != "failed" || h.LastError != "source unreachable" {
		t.Fatalf("health %+v", h)
	}
	s.RunNow(&fakeJob{name: "panics", panic: true})
	if h := health(s, "panics"); h.LastStatus != "failed" || h.LastError != "panic: boom" {
		t.Fatalf("health %+v", h)
	}
	if err := s.Add("not a cron spec", &fakeJob{name: "x"}); err == nil {
		t.Fatal("bad spec accepted")
	}
}

func health(s *Scheduler, name string) JobHealth {
	for _, h := range s.Health() {
		if h.Job == name {
			return h
		}
	}
	return JobHealth{}
}
