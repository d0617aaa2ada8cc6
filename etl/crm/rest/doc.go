// Package rest pulls CRM records (docs/crm-export.md) from a CRM's REST API,
// one page at a time, and turns each API record into a crm.Fields keyed by
// contract field name. It does not interpret fields: mapping, validation and
// quarantine happen downstream, exactly as for the CSV export.
//
// # What carelens expects of a CRM API
//
// Each entity (contacts, campaigns, messages, message_events,
// survey_responses, consents) is a collection read with
//
//	GET {BaseURL}{Path}?{SinceParam}=<RFC 3339 UTC>&{PageSizeParam}=<n>&{CursorParam}=<cursor>
//
// where Path defaults to "/" + entity, the since parameter is omitted when
// since is zero and the cursor parameter is omitted on the first page. The
// since value is truncated to whole seconds (so no record is skipped) and
// written in UTC, e.g. 2025-03-04T14:15:00Z; the API is expected to return
// the records updated at or after it.
//
// The answer is a JSON object holding the records in the array {DataField}
// and the cursor of the next page in {NextField}; a NextField that is absent,
// null or "" marks the last page. Every record must be a JSON object of
// scalar values (string, number, boolean, null); its keys are contract field
// names unless EntityConfig.Fields renames them. A NextField value that is an
// absolute http(s) URL is followed as is, and only when it is on the API's own
// origin; any other value is an opaque cursor sent back in CursorParam.
//
// Two pagination styles set the default names (each can be overridden):
//
//	style        CursorParam   NextField
//	cursor       cursor        next_cursor       (the default)
//	page_token   page_token    next_page_token
//
// DataField defaults to "data", PageSizeParam to "limit" and SinceParam to
// "updated_since".
//
// # Authentication
//
// Either a static bearer token (Config.Token) or an OAuth 2.0 client
// credentials grant (RFC 6749 §4.4, Config.OAuth): the client POSTs
// grant_type=client_credentials (and scope) to the token endpoint with HTTP
// Basic client authentication, caches the access token until shortly before
// expires_in runs out, and when the API answers 401 gets a new token and
// retries once. The bearer token is sent to the API's origin (scheme, host
// and port of BaseURL) only: never to a next link or redirect on another
// origin.
//
// # Failures
//
// 429 and 503 answers are retried after their Retry-After (seconds or an
// HTTP-date), other 5xx answers, network errors and truncated or invalid JSON
// bodies after an exponential backoff with jitter; every wait is capped at
// Config.MaxBackoff and the number of retries at Config.MaxRetries. Other
// 4xx answers, and answers that break the shape above, fail at once. A
// record that is not usable (not an object, or with a nested value) never
// fails its page: it comes back as an Item with Err set.
//
// Errors and logs name entities, fields, status codes and counts, never
// record values (names, phone numbers and e-mail addresses live there) nor
// tokens. Only the Go standard library is used.
//
// Package resttest provides a fake CRM server implementing this API, for
// tests here and in the packages that use this client.
package rest
