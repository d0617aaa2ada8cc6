package dashboards

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"

	"github.com/carelens/carelens/internal/disclosure"
	"github.com/carelens/carelens/metrics"
)

//go:embed templates/*.html
var templateFS embed.FS

// Options configure New.
type Options struct {
	// Metrics computes the results pages show (required); *metrics.Engine.
	Metrics metrics.Computer
	// SuppressionThreshold hides counts 1..threshold-1 on every page
	// (0 means disclosure.DefaultThreshold, 11).
	SuppressionThreshold int
}

// Set is carelens' dashboards: it renders pages and serves their assets. It
// is safe for concurrent use.
type Set struct {
	metrics metrics.Computer
	policy  disclosure.Policy
	assets  assets
	tmpl    *template.Template
	pages   []page
}

// page is one dashboard: its URL name, its nav title, and how it renders its
// content (the data it fetches goes through metrics.Disclose).
type page struct {
	name, title string
	render      func(ctx context.Context, s *Set) (pageData, error)
}

// pageData is what a page hands the layout.
type pageData struct {
	// Scripts are the versioned URLs of the scripts the page needs.
	Scripts []string
	// Content is the page body, rendered by the page's own template.
	Content template.HTML
	Footer  footer
}

// footer states where the numbers come from and how they were protected.
type footer struct {
	SnapshotID int64
	Threshold  int
	MaxHidden  int // Threshold-1: the largest count never shown
	Metric     string
	Version    int
	From, To   string
}

// DefaultPage is the page served at /.
const DefaultPage = "appointments"

// New returns the dashboards.
func New(opts Options) (*Set, error) {
	if opts.Metrics == nil {
		return nil, errors.New("dashboards: Options.Metrics is required")
	}
	s := &Set{metrics: opts.Metrics}
	if opts.SuppressionThreshold != 0 {
		p, err := disclosure.New(opts.SuppressionThreshold)
		if err != nil {
			return nil, err
		}
		s.policy = p
	}
	var err error
	if s.assets, err = loadAssets(); err != nil {
		return nil, fmt.Errorf("dashboards: %w", err)
	}
	if s.tmpl, err = template.ParseFS(templateFS, "templates/*.html"); err != nil {
		return nil, fmt.Errorf("dashboards: %w", err)
	}
	s.pages = []page{
		{name: "appointments", title: "Appointments", render: renderAppointments},
	}
	return s, nil
}

// Static returns the handler for /static/… (the embedded chart library).
func (s *Set) Static() http.Handler { return s.assets }

type navItem struct {
	Name, Title, URL string
	Current          bool
}

// Render writes the named page ("" is DefaultPage) to w. An unknown page is
// a metrics.ErrNotFound; data errors keep their metrics kinds (ErrUnavailable
// before the first load). Nothing is written on error.
func (s *Set) Render(ctx context.Context, name string, w io.Writer) error {
	if name == "" {
		name = DefaultPage
	}
	var p *page
	for i := range s.pages {
		if s.pages[i].name == name {
			p = &s.pages[i]
		}
	}
	if p == nil {
		return fmt.Errorf("dashboard %q: %w", name, metrics.ErrNotFound)
	}
	data, err := p.render(ctx, s)
	if err != nil {
		return err
	}
	var nav []navItem
	for _, q := range s.pages {
		nav = append(nav, navItem{Name: q.name, Title: q.title, URL: "/dashboards/" + q.name, Current: q.name == name})
	}
	var buf bytes.Buffer
	err = s.tmpl.ExecuteTemplate(&buf, "layout.html", struct {
		Title string
		Nav   []navItem
		Page  pageData
	}{p.title, nav, data})
	if err != nil {
		return fmt.Errorf("dashboard %s: %w", name, err)
	}
	_, err = buf.WriteTo(w)
	return err
}

// execute renders the named template to safe HTML.
func (s *Set) execute(name string, data any) (template.HTML, error) {
	var buf bytes.Buffer
	if err := s.tmpl.ExecuteTemplate(&buf, name, data); err != nil {
		return "", err
	}
	return template.HTML(buf.String()), nil // produced by html/template: already escaped
}
