package server

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/carelens/carelens/internal/auth"
	"github.com/carelens/carelens/metrics/fhirreport"
)

// Audit actions of MeasureReport subject lists (patient-level exports).
const (
	// ActionSubjectListExported: a MeasureReport subject list was returned.
	ActionSubjectListExported = "measure_report.subject_list"
	// ActionSubjectListRefused: a principal without auth.ExportSubjects
	// asked for one.
	ActionSubjectListRefused = "measure_report.subject_list_refused"
)

// getMeasureReport answers GET /api/v1/measures/:id/report: metric :id as a
// FHIR R4 MeasureReport (application/fhir+json) over the measurement period
// given as period (2025, 2025-01-01/2025-12-31) or as periodStart and
// periodEnd, of reportType summary (default; "population" is accepted) or
// subject-list.
//
// A summary has been through disclosure control (metrics.PublishMeasure)
// and then through the repeated-query guard, twice: the metric's own cell
// under the metric's name, so that it is compared with /api/v1/metrics
// results, and the populations under "<metric>:populations".
//
// A subject list holds patient ids: a principal without
// auth.ExportSubjects gets 403, audited (ActionSubjectListRefused; a failed
// audit write is logged and the refusal stands). One who has it gets the
// list only once the export is audited (ActionSubjectListExported: who,
// which metric, version, snapshot and period, how many patients; never
// their ids), else a 500; without an auditor the server has no subject
// lists (503).
func (s *server) getMeasureReport(c echo.Context) error {
	req, err := parseMeasureReportQuery(c.QueryParams())
	if err != nil {
		return err
	}
	p, ok := principalOf(c)
	if !ok {
		return auth.ErrUnauthenticated
	}
	ctx := c.Request().Context()
	req.Measure = c.Param("id")
	req.Policy = s.policy
	if req.Type == fhirreport.SubjectList {
		if !p.Can(auth.ExportSubjects) {
			s.refuseSubjectList(ctx, p, req.Measure)
			return forbidden(fmt.Sprintf("forbidden: the role %s does not grant %s, which subject lists need; ask for reportType=summary",
				p.Role, auth.ExportSubjects))
		}
		if s.auditor == nil {
			return echo.NewHTTPError(http.StatusServiceUnavailable, "subject lists are not available: this server has no audit trail to record them")
		}
		if _, ok := s.metrics.(fhirreport.MemberSource); !ok {
			return echo.NewHTTPError(http.StatusServiceUnavailable, "subject lists are not available on this server")
		}
	}
	rep, err := fhirreport.Generate(ctx, s.metrics, req)
	if err != nil {
		return err
	}
	if req.Type == fhirreport.SubjectList {
		details := map[string]any{
			"role":         string(p.Role),
			"metric":       rep.Result.Metric,
			"version":      rep.Result.Version,
			"snapshot_id":  rep.Result.SnapshotID,
			"period_start": rep.Result.From.Format(time.DateOnly),
			"period_end":   rep.Result.To.Format(time.DateOnly),
			"report_id":    rep.Resource.ID,
			// PRIVACY.md: each patient-level export records how many
			// patients it holds.
			"subjects": rep.Subjects,
		}
		if err := s.auditor.Record(ctx, p.Name, ActionSubjectListExported, details); err != nil {
			return fmt.Errorf("audit %s: %w", ActionSubjectListExported, err)
		}
		s.log.Info("measure report subject list", "action", ActionSubjectListExported, "principal", p.Name,
			"role", string(p.Role), "metric", rep.Result.Metric)
	} else {
		for _, pub := range rep.Result.Published {
			if err := s.admit(c, pub); err != nil {
				return err
			}
		}
	}
	body, err := json.Marshal(rep.Resource)
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, fhirreport.MediaType, body)
}

// refuseSubjectList audits and logs a refused subject list. The metric is
// named only when it exists (the path is the requester's text).
func (s *server) refuseSubjectList(ctx context.Context, p auth.Principal, name string) {
	metric := ""
	for _, d := range s.metrics.List() {
		if d.Name == name {
			metric = name
			break
		}
	}
	s.log.Warn("measure report subject list refused", "action", ActionSubjectListRefused, "principal", p.Name,
		"role", string(p.Role), "metric", metric)
	if s.auditor == nil {
		return
	}
	details := map[string]any{"role": string(p.Role), "metric": metric, "report_type": string(fhirreport.SubjectList)}
	if err := s.auditor.Record(ctx, p.Name, ActionSubjectListRefused, details); err != nil {
		s.log.Error("audit record failed", "action", ActionSubjectListRefused, "principal", p.Name, slog.Any("error", err))
	}
}

// parseMeasureReportQuery reads period or periodStart and periodEnd,
// reportType and _format (JSON only); any other parameter is an error.
func parseMeasureReportQuery(v url.Values) (fhirreport.Request, error) {
	var req fhirreport.Request
	get := map[string]string{}
	for key, vals := range v {
		switch key {
		case "period", "periodStart", "periodEnd", "reportType", "_format":
		default:
			return req, badRequest(fmt.Sprintf("unknown parameter %q: a measure report takes period (or periodStart and periodEnd) and reportType", key))
		}
		if len(vals) != 1 {
			return req, badRequest(fmt.Sprintf("parameter %s is given %d times", key, len(vals)))
		}
		get[key] = vals[0]
	}
	switch f := get["_format"]; f {
	case "", "json", "application/json", fhirreport.MediaType:
	default:
		return req, badRequest(fmt.Sprintf("_format %q: only JSON (json, application/fhir+json) is served", f))
	}
	var err error
	period, start, end := get["period"], get["periodStart"], get["periodEnd"]
	switch {
	case period != "" && (start != "" || end != ""):
		return req, badRequest("give period, or periodStart and periodEnd, not both")
	case period != "":
		req.From, req.To, err = fhirreport.ParsePeriod(period)
	case start != "" && end != "":
		req.From, req.To, err = fhirreport.ParseBounds(start, end)
	case start != "" || end != "":
		return req, badRequest("periodStart and periodEnd go together")
	default:
		return req, badRequest("period is required: a year (period=2025), an interval (period=2025-01-01/2025-12-31), or periodStart and periodEnd")
	}
	if err != nil {
		return req, err
	}
	req.Type, err = fhirreport.ParseType(get["reportType"])
	return req, err
}
