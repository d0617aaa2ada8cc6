package dashboards

import (
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"math"
	"sort"
	"time"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"github.com/carelens/carelens/metrics"
)

// noShowMetric is the metric the appointments page shows.
const noShowMetric = "no_show_rate"

// allClinics labels the total over clinics.
const allClinics = "All clinics"

// renderAppointments shows the no-show rate over the default range (the
// last 12 full months of data) by month and clinic, with the all-clinics
// totals from the same protected table.
func renderAppointments(ctx context.Context, s *Set) (pageData, error) {
	pub, err := metrics.Disclose(ctx, s.metrics, noShowMetric,
		metrics.Query{Grain: metrics.GrainMonth, By: []string{"clinic"}}, s.policy)
	if err != nil {
		return pageData{}, err
	}
	view, err := newAppointmentsView(pub)
	if err != nil {
		return pageData{}, err
	}
	snippet := view.chart.RenderSnippet()
	var scripts []string
	for _, js := range view.chart.JSAssets.Values {
		u, err := s.assets.url(js)
		if err != nil {
			return pageData{}, err
		}
		scripts = append(scripts, u)
	}
	content, err := s.execute("appointments.html", struct {
		*appointmentsView
		ChartElement, ChartScript template.HTML
	}{view, template.HTML(snippet.Element), template.HTML(snippet.Script)})
	if err != nil {
		return pageData{}, fmt.Errorf("dashboard appointments: %w", err)
	}
	return pageData{Scripts: scripts, Content: content, Footer: footer{
		SnapshotID: pub.SnapshotID, Threshold: pub.Threshold, MaxHidden: pub.Threshold - 1,
		Metric: pub.Metric, Version: pub.Version,
		From: pub.From.Format(time.DateOnly), To: pub.To.Format(time.DateOnly),
	}}, nil
}

// appointmentsView is the page's data: a scorecard, a chart and the table
// of the plotted numbers. It is built from published cells only.
type appointmentsView struct {
	Title     string
	Scorecard scorecard
	Columns   []string // "All clinics", then each clinic
	Rows      []tableRow
	chart     *charts.Line
}

type scorecard struct {
	Period    string // "March 2025"; empty when there is no data
	Value     string // "18.8 %" or "suppressed"
	Target    string // "10.0 %"; empty without a target
	Direction string // "lower is better"
	Status    string // "above target", …; empty when unknown
	Good      bool
}

type tableRow struct {
	Period string
	Cells  []tableCell
}

type tableCell struct {
	Text   string // "12.0 %", "suppressed" or "no data"
	Detail string // "12 of 100", "of 30" or ""
	Class  string // "", "suppressed" or "empty"
}

func newAppointmentsView(pub *metrics.Published) (*appointmentsView, error) {
	if len(pub.Dims) != 1 || pub.Dims[0] != "clinic" || pub.Grain != metrics.GrainMonth {
		return nil, fmt.Errorf("dashboard appointments: want %s by month and clinic, got %s by %v", noShowMetric, pub.Grain, pub.Dims)
	}
	totals, err := pub.Totals("clinic")
	if err != nil {
		return nil, err
	}
	byPeriod := map[string]metrics.Cell{}
	for _, c := range totals {
		byPeriod[c.Period] = c
	}
	cells := map[[2]string]metrics.Cell{}
	clinicSet := map[string]bool{}
	for _, c := range pub.Rows {
		cells[[2]string{c.Period, c.Dims[0]}] = c
		clinicSet[c.Dims[0]] = true
	}
	clinics := make([]string, 0, len(clinicSet))
	for c := range clinicSet {
		clinics = append(clinics, c)
	}
	sort.Strings(clinics)

	var labels []string
	for _, p := range metrics.Periods(metrics.GrainMonth, pub.From, pub.To) {
		labels = append(labels, metrics.PeriodLabel(metrics.GrainMonth, p))
	}
	v := &appointmentsView{Title: pub.Title, Columns: append([]string{allClinics}, clinics...)}
	for _, l := range labels {
		row := tableRow{Period: l}
		total, ok := byPeriod[l]
		row.Cells = append(row.Cells, newTableCell(total, ok))
		for _, c := range clinics {
			cell, ok := cells[[2]string{l, c}]
			row.Cells = append(row.Cells, newTableCell(cell, ok))
		}
		v.Rows = append(v.Rows, row)
	}
	v.Scorecard = newScorecard(pub, labels, byPeriod)
	v.chart = noShowChart(pub, labels, clinics, byPeriod, cells)
	return v, nil
}

func percent(v float64) string { return fmt.Sprintf("%.1f %%", v*100) }

func count(v float64) string { return fmt.Sprintf("%.0f", v) }

func newTableCell(c metrics.Cell, ok bool) tableCell {
	switch {
	case !ok:
		return tableCell{Text: "no data", Class: "empty"}
	case c.Suppressed:
		t := tableCell{Text: "suppressed", Class: "suppressed"}
		if c.Denominator != nil {
			t.Detail = "of " + count(*c.Denominator)
		}
		return t
	case c.Value == nil:
		return tableCell{Text: "no data", Class: "empty"}
	}
	return tableCell{Text: percent(*c.Value), Detail: count(*c.Numerator) + " of " + count(*c.Denominator)}
}

// newScorecard takes the latest month with data, all clinics together.
func newScorecard(pub *metrics.Published, labels []string, byPeriod map[string]metrics.Cell) scorecard {
	var sc scorecard
	if pub.Target != nil {
		sc.Target = percent(*pub.Target)
	}
	sc.Direction = "lower is better"
	if pub.Direction == metrics.HigherIsBetter {
		sc.Direction = "higher is better"
	}
	for i := len(labels) - 1; i >= 0; i-- {
		c, ok := byPeriod[labels[i]]
		if !ok {
			continue
		}
		start, _ := time.Parse("2006-01", labels[i])
		sc.Period = start.Format("January 2006")
		if c.Value == nil {
			sc.Value = "suppressed"
			return sc
		}
		sc.Value = percent(*c.Value)
		if pub.Target != nil {
			lower := pub.Direction == metrics.LowerIsBetter
			switch v, t := *c.Value, *pub.Target; {
			case lower && v <= t:
				sc.Status, sc.Good = "at or below target", true
			case lower:
				sc.Status = "above target"
			case v >= t:
				sc.Status, sc.Good = "at or above target", true
			default:
				sc.Status = "below target"
			}
		}
		return sc
	}
	return sc
}

// gap is a missing point: JSON null, which ECharts draws as a break in the
// line (connectNulls is off), never as zero.
var gap = json.RawMessage("null")

// point returns a chart value in percent (one decimal), or a gap for a
// suppressed or missing cell.
func point(c metrics.Cell, ok bool) opts.LineData {
	if !ok || c.Value == nil {
		return opts.LineData{Value: gap}
	}
	return opts.LineData{Value: math.Round(*c.Value*1000) / 10}
}

// chartID names the chart element and its JavaScript variables (it must be
// a JavaScript identifier).
const chartID = "noShowRateChart"

func noShowChart(pub *metrics.Published, labels, clinics []string, byPeriod map[string]metrics.Cell, cells map[[2]string]metrics.Cell) *charts.Line {
	line := charts.NewLine()
	line.SetGlobalOptions(
		charts.WithInitializationOpts(opts.Initialization{
			ChartID: chartID, Width: "100%", Height: "420px", AssetsHost: StaticPrefix + "js/",
		}),
		charts.WithAnimation(false),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "axis",
			ValueFormatter: opts.FuncOpts(`(v) => (typeof v === 'number' ? v.toFixed(1) + ' %' : 'not shown')`)}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(true), Top: "0"}),
		charts.WithYAxisOpts(opts.YAxis{Name: "No-show rate (%)", Min: 0,
			AxisLabel: &opts.AxisLabel{Formatter: "{value} %"}}),
	)
	line.SetXAxis(labels)
	lineOpts := charts.WithLineChartOpts(opts.LineChart{ConnectNulls: opts.Bool(false), ShowSymbol: opts.Bool(true)})
	total := make([]opts.LineData, len(labels))
	for i, l := range labels {
		c, ok := byPeriod[l]
		total[i] = point(c, ok)
	}
	totalOpts := []charts.SeriesOpts{lineOpts, charts.WithLineStyleOpts(opts.LineStyle{Width: 3})}
	if pub.Target != nil {
		totalOpts = append(totalOpts,
			charts.WithMarkLineNameYAxisItemOpts(opts.MarkLineNameYAxisItem{Name: "Target", YAxis: math.Round(*pub.Target*1000) / 10}),
			charts.WithMarkLineStyleOpts(opts.MarkLineStyle{Symbol: []string{"none", "none"},
				Label: &opts.Label{Show: opts.Bool(true), Formatter: "target {c} %"}}))
	}
	line.AddSeries(allClinics, total, totalOpts...)
	for _, clinic := range clinics {
		data := make([]opts.LineData, len(labels))
		for i, l := range labels {
			c, ok := cells[[2]string{l, clinic}]
			data[i] = point(c, ok)
		}
		line.AddSeries(clinic, data, lineOpts)
	}
	return line
}
