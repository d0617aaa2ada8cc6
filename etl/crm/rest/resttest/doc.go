// Package resttest is a fake CRM REST API for tests, here and in the
// packages that pull CRM data with package rest. It serves records held in
// memory with the API shape rest expects (since filter, cursor or page-token
// pagination with opaque resumable cursors, a static bearer token or an
// OAuth client credentials token endpoint), injects faults on demand
// (throttling, 5xx answers, truncated bodies, expiring tokens) and counts
// each, so tests can assert exact request and retry counts.
//
// It is ordinary (non-test) code so that other packages' tests can import
// it; nothing outside tests should.
package resttest
