// Package server is carelens' HTTP front: the metric API (JSON, and CSV by
// "Accept: text/csv"), health check and dashboard pages, on Echo v4.
//
// Handlers are thin (one file each, <noun>_<verb>.go): they decode and
// validate the request, call one domain function and render. They return
// errors; one central handler maps error kinds to status codes (invalid
// 400, unauthenticated 401, forbidden or refused by the repeated-query guard
// 403, not found 404, refused on this data 409, unavailable 503, anything
// else 500), answers {"error": "…"} (a small HTML page for browser requests
// outside /api/), and logs each 5xx once. Every request is logged with slog:
// method, path, route, status, bytes, duration_ms and the principal's name;
// never query values, keys or response contents.
//
// Access (internal/auth, docs/access.md): /healthz and /static/ are open;
// /api/ and the dashboard pages act for a principal, authenticated by an API
// key ("Authorization: Bearer <key>") or, without keys (open mode), the
// analyst "anonymous". Each route requires a permission of the principal's
// role.
//
// The server depends on small interfaces (MetricReader, Health, Dashboards,
// Auditor), not on the database. Every metric value it returns has passed
// through metrics.Disclose, i.e. internal/disclosure, and then through the
// repeated-query guard (internal/guard) for the request's principal; the
// guard's refusals and admin exemptions go to the Auditor.
package server
