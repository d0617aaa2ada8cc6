// Package bulk is a FHIR Bulk Data Access (v2) client: it kicks off an
// $export at system, Patient or Group level, polls the status URL, streams
// every output, deleted and error file to a local folder with verification,
// and writes a manifest.json whose file URLs are the local names, so the
// folder can be loaded by the etl files job as is.
//
// Authentication is a TokenSource: StaticToken for a fixed bearer token, or
// BackendServices for SMART Backend Services (client_credentials grant with
// a signed RS384 or ES384 JWT client assertion). The bearer token is sent to
// the FHIR server's own origin only, never to another host, and to file URLs
// only when the completion manifest says requiresAccessToken.
//
// Only the Go standard library is used.
package bulk
