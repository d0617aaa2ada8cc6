package etl

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
)

// JobHealth is what the scheduler knows of a job's last run.
type JobHealth struct {
	Job        string    `json:"job"`
	Schedule   string    `json:"schedule"`
	Running    bool      `json:"running"`
	LastStart  time.Time `json:"last_start,omitempty"`
	LastStatus string    `json:"last_status,omitempty"`
	LastError  string    `json:"last_error,omitempty"`
	LastRunID  string    `json:"last_run_id,omitempty"`
	Duration   string    `json:"last_duration,omitempty"`
	Runs       int       `json:"runs"`
	Skipped    int       `json:"skipped"`
}

// Scheduler runs jobs on cron schedules. A run is skipped while the previous
// one of the same job is still going, a panic is recovered and recorded as a
// failure, each run gets the timeout, and one failing job never stops others.
type Scheduler struct {
	c       *cron.Cron
	log     *slog.Logger
	timeout time.Duration
	ctx     context.Context
	cancel  context.CancelFunc

	mu     sync.Mutex
	health map[string]*JobHealth
}

// NewScheduler returns a stopped scheduler; timeout bounds each run (0 = 1 h).
func NewScheduler(log *slog.Logger, timeout time.Duration) *Scheduler {
	if timeout <= 0 {
		timeout = time.Hour
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Scheduler{c: cron.New(), log: log, timeout: timeout, ctx: ctx, cancel: cancel, health: map[string]*JobHealth{}}
}

// Add schedules jobs on a cron spec (5 fields or a descriptor like
// @hourly). On each tick they run one after the other, each to its end:
// the warehouse has one writer.
func (s *Scheduler) Add(spec string, jobs ...Job) error {
	s.mu.Lock()
	for _, job := range jobs {
		s.health[job.Name()] = &JobHealth{Job: job.Name(), Schedule: spec}
	}
	s.mu.Unlock()
	_, err := s.c.AddFunc(spec, func() {
		for _, job := range jobs {
			s.RunNow(job)
		}
	})
	if err != nil {
		return fmt.Errorf("schedule %q: %w", spec, err)
	}
	return nil
}

// RunNow runs job once in the caller's goroutine unless it is already
// running, and reports whether it ran.
func (s *Scheduler) RunNow(job Job) bool {
	s.mu.Lock()
	h := s.health[job.Name()]
	if h == nil {
		h = &JobHealth{Job: job.Name()}
		s.health[job.Name()] = h
	}
	if h.Running {
		h.Skipped++
		s.mu.Unlock()
		s.log.Warn("job still running, run skipped", "job", job.Name())
		return false
	}
	h.Running, h.LastStart = true, time.Now().UTC()
	s.mu.Unlock()

	res, err := s.runGuarded(job)
	s.mu.Lock()
	defer s.mu.Unlock()
	h.Running = false
	h.Runs++
	h.Duration = time.Since(h.LastStart).Round(time.Millisecond).String()
	h.LastStatus, h.LastError, h.LastRunID = "succeeded", "", ""
	if res != nil {
		h.LastRunID = res.RunID
	}
	if err != nil {
		h.LastStatus, h.LastError = "failed", err.Error()
	}
	return true
}

func (s *Scheduler) runGuarded(job Job) (res *Result, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
			s.log.Error("job panicked", "job", job.Name(), "error", err)
		}
	}()
	ctx, cancel := context.WithTimeout(s.ctx, s.timeout)
	defer cancel()
	return job.Run(ctx)
}

// Health returns a copy of every job's health.
func (s *Scheduler) Health() []JobHealth {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]JobHealth, 0, len(s.health))
	for _, h := range s.health {
		out = append(out, *h)
	}
	return out
}

// Start starts the cron loop.
func (s *Scheduler) Start() { s.c.Start() }

// Stop stops scheduling, cancels running jobs and waits for them to return.
func (s *Scheduler) Stop() {
	ctx := s.c.Stop()
	s.cancel()
	<-ctx.Done()
}
