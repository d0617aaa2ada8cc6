// Package server is carelens' HTTP front: the JSON metric API, health check
// and dashboard pages, on Echo v4.
//
// Handlers are thin (one file each, <noun>_<verb>.go): they decode and
// validate the request, call one domain function and render. They return
// errors; one central handler maps error kinds to status codes (invalid
// 400, not found 404, unavailable 503, anything else 500), answers
// {"error": "…"} (a small HTML page for browser requests outside /api/), and
// logs each 5xx once. Every request is logged with slog: method, path, route,
// status, bytes and duration_ms; never query values or response contents.
//
// The server depends on small interfaces (MetricReader, Health, Dashboards),
// not on the database. Every metric value it returns has passed through
// metrics.Disclose, i.e. internal/disclosure.
package server
