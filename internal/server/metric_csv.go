package server

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/carelens/carelens/metrics"
)

// mimeCSV is the media type of CSV metric results.
const mimeCSV = "text/csv"

// wantsCSV reports whether an Accept header prefers text/csv to
// application/json: text/csv (or text/*) must be acceptable with a higher
// quality than JSON. An empty header, */*, a browser's text/html,… and ties
// keep JSON, the API's default.
func wantsCSV(accept string) bool {
	if accept == "" {
		return false
	}
	return quality(accept, "text", "csv") > quality(accept, "application", "json")
}

// quality returns the q value the Accept header gives typ/sub, from its most
// specific matching range (RFC 9110 12.5.1); 0 when none matches.
func quality(accept, typ, sub string) float64 {
	best, bestSpec := 0.0, -1
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		t, s, _ := strings.Cut(mt, "/")
		spec := -1
		switch {
		case t == typ && s == sub:
			spec = 2
		case t == typ && s == "*":
			spec = 1
		case t == "*" && s == "*":
			spec = 0
		}
		if spec < bestSpec || spec < 0 {
			continue
		}
		q := 1.0
		if v, ok := params["q"]; ok {
			if q, err = strconv.ParseFloat(v, 64); err != nil || q < 0 || q > 1 {
				continue
			}
		}
		if spec > bestSpec || q > best {
			best, bestSpec = q, spec
		}
	}
	return best
}

// renderMetricCSV answers a published result as CSV: a header row (period
// when grouped by period, each dimension, numerator, denominator, value,
// suppressed), then one line per published cell in the JSON rows' order.
// Withheld parts are empty and suppressed is "true"; no cell is dropped.
// Text cells that a spreadsheet would read as a formula are prefixed with
// an apostrophe.
func renderMetricCSV(c echo.Context, p *metrics.Published) error {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	grained := p.Grain != metrics.GrainNone && p.Grain != ""
	var header []string
	if grained {
		header = append(header, "period")
	}
	header = append(header, p.Dims...)
	header = append(header, "numerator", "denominator", "value", "suppressed")
	if err := w.Write(header); err != nil {
		return err
	}
	rec := make([]string, 0, len(header))
	for _, cell := range p.Rows {
		rec = rec[:0]
		if grained {
			rec = append(rec, cellText(cell.Period))
		}
		for _, d := range cell.Dims {
			rec = append(rec, cellText(d))
		}
		rec = append(rec, number(cell.Numerator), number(cell.Denominator), number(cell.Value),
			strconv.FormatBool(cell.Suppressed))
		if err := w.Write(rec); err != nil {
			return err
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="%s_%s_%s.csv"`,
		p.Metric, p.From.Format(time.DateOnly), p.To.Format(time.DateOnly)))
	h.Set("Carelens-Snapshot-Id", strconv.FormatInt(p.SnapshotID, 10))
	h.Set("Carelens-Suppression-Threshold", strconv.Itoa(p.Threshold))
	return c.Blob(http.StatusOK, mimeCSV+"; charset=utf-8", buf.Bytes())
}

// number renders a published number; a withheld one is empty.
func number(v *float64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatFloat(*v, 'f', -1, 64)
}

// cellText guards a text cell against formula injection (OWASP "CSV
// Injection"): a leading =, +, -, @, tab or carriage return gets a leading
// apostrophe.
func cellText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
