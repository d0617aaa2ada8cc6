package server

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/carelens/carelens/internal/auth"
	"github.com/carelens/carelens/internal/guard"
	"github.com/carelens/carelens/metrics"
)

// refusal is the guard's refusal as the client sees it: why, without any
// number beyond the public threshold.
type refusal struct {
	metric    string
	overlap   guard.Overlap
	threshold int
}

func (r refusal) Error() string {
	return fmt.Sprintf("refused: together with a result of %s you received earlier (a %s overlap), this one would "+
		"reveal a count below %d by subtraction; ask for periods and filters that do not contain one another, "+
		"or ask an administrator", r.metric, r.overlap, r.threshold)
}

func (r refusal) Unwrap() error { return guard.ErrRefused }

// admit passes pub through the repeated-query guard for the request's
// principal. A violation is logged and audited (actor, metric, kind of
// overlap; never values): for a principal without auth.BypassQueryGuard
// the result is refused (403, audited as ActionGuardRefused, even if the
// audit write fails, which is logged); an exempt principal gets it, but
// only once the audit record (ActionGuardExempted) is written.
func (s *server) admit(c echo.Context, pub *metrics.Published) error {
	p, ok := principalOf(c)
	if !ok {
		return auth.ErrUnauthenticated
	}
	d, err := s.guard.Admit(p.Name, p.Can(auth.BypassQueryGuard), pub)
	if err != nil {
		return err
	}
	if d.Evicted > 0 {
		s.log.Warn("query guard history full: oldest results forgotten before their window ended",
			"principal", p.Name, "evicted", d.Evicted)
	}
	v := d.Violation
	if v == nil {
		return nil
	}
	action := ActionGuardExempted
	if d.Refused {
		action = ActionGuardRefused
	}
	s.log.Warn("query guard", "action", action, "principal", p.Name, "role", string(p.Role),
		"metric", v.Metric, "overlap", string(v.Overlap))
	if s.auditor != nil {
		if err := s.auditor.Record(c.Request().Context(), p.Name, action, auditDetails(p, v)); err != nil {
			if !d.Refused {
				return fmt.Errorf("audit %s: %w", action, err)
			}
			s.log.Error("audit record failed", "action", action, "principal", p.Name, slog.Any("error", err))
		}
	}
	if d.Refused {
		return refusal{metric: v.Metric, overlap: v.Overlap, threshold: s.policy.Threshold()}
	}
	return nil
}

// auditDetails describes a violation for the audit trail: names, kinds and
// times only.
func auditDetails(p auth.Principal, v *guard.Violation) map[string]any {
	return map[string]any{
		"role":            string(p.Role),
		"metric":          v.Metric,
		"overlap":         string(v.Overlap),
		"measure":         v.Measure,
		"grain":           string(v.Grain),
		"earlier_grain":   string(v.EarlierGrain),
		"by":              nonNil(v.By),
		"filters":         nonNil(v.Filters),
		"earlier_filters": nonNil(v.EarlierFilters),
		"earlier_at":      v.EarlierAt.UTC().Format(time.RFC3339),
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
