package guard

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/carelens/carelens/internal/disclosure"
	"github.com/carelens/carelens/metrics"
)

// Defaults of Options.
const (
	DefaultWindow     = 24 * time.Hour
	DefaultMaxQueries = 200
	DefaultMaxCells   = 200_000
)

// ErrRefused marks a result the guard refused; the HTTP server answers 403.
var ErrRefused = errors.New("refused by the repeated-query guard")

// Options configure New. Zero fields take the defaults.
type Options struct {
	// Window is how long a result is remembered (DefaultWindow).
	Window time.Duration
	// MaxQueries caps the results remembered per principal; the oldest is
	// dropped first (DefaultMaxQueries).
	MaxQueries int
	// MaxCells caps the cells remembered per principal, summed over its
	// results; the oldest results are dropped first, but the newest is
	// always kept whatever its size (DefaultMaxCells).
	MaxCells int
	// Threshold is the disclosure threshold: a difference from 1 to
	// Threshold-1 is a small count (disclosure.DefaultThreshold, 11).
	Threshold int
	// Now is the clock (time.Now).
	Now func() time.Time
}

// Guard remembers the results each principal received and refuses those
// that would reveal a small count by differencing. It is safe for
// concurrent use.
type Guard struct {
	window     time.Duration
	maxQueries int
	maxCells   int
	threshold  float64
	now        func() time.Time

	mu        sync.Mutex
	histories map[string]*history
	lastSweep time.Time
}

// history is one principal's remembered results, oldest first.
type history struct {
	mu      sync.Mutex
	dead    bool // removed from Guard.histories by a sweep
	records []*record
	cells   int
}

// New returns a guard. Negative sizes and durations, and a threshold below
// 1, are errors.
func New(opts Options) (*Guard, error) {
	if opts.Window < 0 || opts.MaxQueries < 0 || opts.MaxCells < 0 {
		return nil, fmt.Errorf("guard: negative window or cap: %+v", opts)
	}
	g := &Guard{
		window: opts.Window, maxQueries: opts.MaxQueries, maxCells: opts.MaxCells,
		now: opts.Now, histories: map[string]*history{},
	}
	if g.window == 0 {
		g.window = DefaultWindow
	}
	if g.maxQueries == 0 {
		g.maxQueries = DefaultMaxQueries
	}
	if g.maxCells == 0 {
		g.maxCells = DefaultMaxCells
	}
	if g.now == nil {
		g.now = time.Now
	}
	th := opts.Threshold
	if th == 0 {
		th = disclosure.DefaultThreshold
	}
	if th < 1 {
		return nil, fmt.Errorf("guard: %w: got %d", disclosure.ErrThreshold, th)
	}
	g.threshold = float64(th)
	return g, nil
}

// Overlap says how two results' cells are nested.
type Overlap string

const (
	// OverlapPeriod: same filters; one side covers dates the other lacks
	// (a shifted or longer range, or a period cut short by the range).
	OverlapPeriod Overlap = "period"
	// OverlapFilter: same dates; one result has a filter the other lacks.
	OverlapFilter Overlap = "filter"
	// OverlapPeriodFilter: both at once.
	OverlapPeriodFilter Overlap = "period+filter"
	// OverlapTotal: same filters and dates; one result's cell is the total
	// of the other's finer cells (months in a quarter or a range), some of
	// them suppressed, so the total minus the visible ones is the sum of
	// the suppressed ones.
	OverlapTotal Overlap = "total"
)

// Violation describes a comparison that would reveal a small count. It holds
// no values (neither counts nor filter values): it is made for audit
// records and logs.
type Violation struct {
	Metric  string
	Overlap Overlap
	// Measure is "numerator" or "denominator".
	Measure string
	// Grain and EarlierGrain are the grains of the new and earlier results.
	Grain, EarlierGrain metrics.Grain
	// By lists the dimensions both results are grouped by (filtered
	// dimensions excluded), sorted.
	By []string
	// Filters and EarlierFilters list the filtered dimensions' names, sorted.
	Filters, EarlierFilters []string
	// EarlierAt is when the earlier result was returned.
	EarlierAt time.Time
}

// Decision is the outcome of Admit.
type Decision struct {
	// Violation is the first comparison found that reveals a small count;
	// nil when there is none.
	Violation *Violation
	// Refused is true when the result must not be returned: there is a
	// Violation and the principal is not exempt. A refused result is not
	// remembered.
	Refused bool
	// Evicted counts results dropped by the caps before their window ended
	// to make room for this one.
	Evicted int
}

// Admit compares pub with the results principal received within the window
// and remembers it unless it is refused. An exempt principal (an admin) is
// never refused: the Violation is reported for audit and the result is
// remembered. Comparison and recording happen under the principal's lock, so
// of two concurrent requests the second is compared with the first. Admit
// fails only on a malformed result (rows whose dimensions do not match, a
// period outside the range, two cells with the same coordinates); the
// caller must then not return it.
func (g *Guard) Admit(principal string, exempt bool, pub *metrics.Published) (Decision, error) {
	now := g.now()
	rec, err := summarize(pub, now)
	if err != nil {
		return Decision{}, err
	}
	for {
		h := g.history(principal, now)
		h.mu.Lock()
		if h.dead {
			h.mu.Unlock()
			continue
		}
		d := h.admit(rec, exempt, g, now)
		h.mu.Unlock()
		return d, nil
	}
}

// history returns principal's history, creating it, and sweeps expired
// results of every principal at most once per minute.
func (g *Guard) history(principal string, now time.Time) *history {
	g.mu.Lock()
	defer g.mu.Unlock()
	if now.Sub(g.lastSweep) >= time.Minute {
		g.lastSweep = now
		g.sweep(now)
	}
	h, ok := g.histories[principal]
	if !ok {
		h = &history{}
		g.histories[principal] = h
	}
	return h
}

// sweep drops expired results and empty histories; a history busy in Admit
// is left for the next sweep. g.mu is held.
func (g *Guard) sweep(now time.Time) {
	for name, h := range g.histories {
		if !h.mu.TryLock() {
			continue
		}
		h.expire(now.Add(-g.window))
		if len(h.records) == 0 {
			h.dead = true
			delete(g.histories, name)
		}
		h.mu.Unlock()
	}
}

// Forget drops everything remembered for principal (when its key is
// revoked, for example).
func (g *Guard) Forget(principal string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if h, ok := g.histories[principal]; ok {
		h.mu.Lock()
		h.dead = true
		h.records, h.cells = nil, 0
		h.mu.Unlock()
		delete(g.histories, principal)
	}
}

// Remembered returns how many results are remembered for principal within
// the window.
func (g *Guard) Remembered(principal string) int {
	g.mu.Lock()
	h, ok := g.histories[principal]
	g.mu.Unlock()
	if !ok {
		return 0
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.expire(g.now().Add(-g.window))
	return len(h.records)
}

// expire drops results returned before cutoff. h.mu is held.
func (h *history) expire(cutoff time.Time) {
	n := 0
	for n < len(h.records) && h.records[n].at.Before(cutoff) {
		h.cells -= h.records[n].cells
		n++
	}
	h.drop(n)
}

// drop removes the n oldest results. h.mu is held.
func (h *history) drop(n int) {
	if n == 0 {
		return
	}
	for i := 0; i < n; i++ {
		h.records[i] = nil
	}
	h.records = append(h.records[:0], h.records[n:]...)
}

// admit is Admit for one history. h.mu is held.
func (h *history) admit(rec *record, exempt bool, g *Guard, now time.Time) Decision {
	h.expire(now.Add(-g.window))
	var d Decision
	for _, old := range h.records {
		if v := compareRecords(rec, old, g.threshold); v != nil {
			d.Violation = v
			break
		}
	}
	if d.Violation != nil && !exempt {
		d.Refused = true
		return d
	}
	// The same query again replaces its earlier result rather than
	// filling the history.
	for i, old := range h.records {
		if old.sameQuery(rec) {
			h.cells -= old.cells
			h.records = append(h.records[:i], h.records[i+1:]...)
			break
		}
	}
	for len(h.records) > 0 && (len(h.records) >= g.maxQueries || h.cells+rec.cells > g.maxCells) {
		h.cells -= h.records[0].cells
		h.drop(1)
		d.Evicted++
	}
	h.records = append(h.records, rec)
	h.cells += rec.cells
	return d
}
