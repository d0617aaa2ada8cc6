package fhir

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// BundleEntry is one entry of a FHIR Bundle, ready for the views: its
// resource with every reference to another entry of the same Bundle
// rewritten to that entry's "Type/id" (so getReferenceKey finds the id the
// target was loaded under), or, for an entry that holds nothing to load, the
// reason why.
type BundleEntry struct {
	// Pos is the entry's 1-based position in Bundle.entry: quarantine rows
	// give it as their line (0 stays "the whole file").
	Pos int64
	// Type is the resource's resourceType ("" when Skip is set).
	Type string
	// Resource is the resource's JSON.
	Resource []byte
	// Skip, when not "", says why the entry holds no resource to load (a
	// DELETE request, an entry without a resource); Resource is nil.
	Skip string
}

// ErrNotBundle reports a JSON document that is neither a FHIR Bundle nor a
// single FHIR resource.
var ErrNotBundle = errors.New("not a FHIR Bundle or resource")

// bundleTypes are the Bundle.type values whose entries are a set of
// resources to load. History bundles (several versions of a resource,
// deletions) and the responses to batches and transactions are not.
var bundleTypes = map[string]bool{
	"collection": true, "transaction": true, "batch": true, "searchset": true,
	"document": true, "message": true,
}

// knownBundleTypes are every FHIR R4 Bundle.type, to name one in a message
// without echoing arbitrary input.
var knownBundleTypes = map[string]bool{
	"document": true, "message": true, "transaction": true, "transaction-response": true,
	"batch": true, "batch-response": true, "history": true, "searchset": true, "collection": true,
}

type bundleDoc struct {
	ResourceType string `json:"resourceType"`
	Type         string `json:"type"`
	Entry        []struct {
		FullURL  string          `json:"fullUrl"`
		Resource json.RawMessage `json:"resource"`
		Request  *struct {
			Method string `json:"method"`
			URL    string `json:"url"`
		} `json:"request"`
	} `json:"entry"`
}

// bundleResource is an entry's resource, decoded for reference resolution.
type bundleResource struct {
	pos      int64
	fullURL  string
	typ, id  string
	doc      map[string]any
	raw      []byte
	assigned bool // id taken from fullUrl: the JSON must be rewritten
}

// BundleEntries reads a FHIR Bundle (collection, transaction, batch,
// searchset, document or message) and returns its entries in order; a JSON
// document holding a single resource gives that resource as the only entry
// (Pos 1). References between entries are resolved as FHIR R4 prescribes
// (Bundle, "Resolving references in Bundles"):
//
//   - an absolute reference (http…, urn:uuid:…, urn:oid:…) names the entry
//     whose fullUrl it equals;
//   - a relative reference (Type/id) made from an entry whose fullUrl is a
//     RESTful URL ([base]/Type/id) names the entry whose fullUrl is that base
//     followed by the reference;
//   - a version ("/_history/n") is ignored, and a contained reference (#id)
//     or a reference no entry matches is left as it is.
//
// A resolved reference is rewritten to "Type/id" of the entry it names. A
// resource without an id takes the one its fullUrl gives (the uuid of
// urn:uuid:…, the id of a RESTful URL), as a server would assign one when
// the transaction is applied.
//
// Errors are about the whole document (ErrNotBundle, malformed JSON, a
// Bundle type that is not a set of resources); an entry's own problems are
// left to the views, except entries with nothing to load (Skip).
func BundleEntries(doc []byte) ([]BundleEntry, error) {
	var head base
	if err := json.Unmarshal(doc, &head); err != nil {
		return nil, errors.New("malformed JSON")
	}
	if head.ResourceType != "Bundle" {
		if !validResourceName(head.ResourceType) {
			return nil, ErrNotBundle
		}
		return []BundleEntry{{Pos: 1, Type: head.ResourceType, Resource: doc}}, nil
	}
	var b bundleDoc
	if err := json.Unmarshal(doc, &b); err != nil {
		return nil, errors.New("malformed Bundle")
	}
	if !bundleTypes[b.Type] {
		if b.Type == "" {
			return nil, errors.New("Bundle without type")
		}
		name := "(invalid)"
		if knownBundleTypes[b.Type] {
			name = b.Type
		}
		return nil, fmt.Errorf("Bundle type %s is not a set of resources to load", name)
	}
	out := make([]BundleEntry, len(b.Entry))
	var res []*bundleResource
	// fullUrl (without version) -> "Type/id" of the entry holding it.
	targets := map[string]string{}
	for i, e := range b.Entry {
		pos := int64(i + 1)
		out[i].Pos = pos
		if len(e.Resource) == 0 || bytes.Equal(bytes.TrimSpace(e.Resource), []byte("null")) {
			out[i].Skip = "Bundle entry without a resource: nothing to load"
			if e.Request != nil && strings.EqualFold(e.Request.Method, "DELETE") {
				out[i].Skip = "Bundle DELETE entry: deletions are not applied from bundles"
			}
			continue
		}
		r := &bundleResource{pos: pos, fullURL: withoutVersion(e.FullURL), raw: e.Resource}
		d := json.NewDecoder(bytes.NewReader(e.Resource))
		d.UseNumber()
		if err := d.Decode(&r.doc); err != nil || r.doc == nil {
			out[i].Skip = "Bundle entry resource is not a JSON object"
			continue
		}
		if r.typ, _ = r.doc["resourceType"].(string); !validResourceName(r.typ) {
			out[i].Skip = "Bundle entry resource without a valid resourceType"
			continue
		}
		r.id, _ = r.doc["id"].(string)
		if r.id == "" {
			if id := idFromFullURL(r.fullURL, r.typ); id != "" {
				r.id, r.doc["id"], r.assigned = id, id, true
			}
		}
		if r.fullURL != "" && r.typ != "" && r.id != "" {
			if _, dup := targets[r.fullURL]; !dup {
				targets[r.fullURL] = r.typ + "/" + r.id
			}
		}
		res = append(res, r)
	}
	for _, r := range res {
		changed := rewriteReferences(r.doc, restBase(r.fullURL), targets)
		raw := r.raw
		if changed || r.assigned {
			var err error
			if raw, err = json.Marshal(r.doc); err != nil {
				return nil, fmt.Errorf("entry %d: %w", r.pos, err)
			}
		}
		out[r.pos-1].Type = r.typ
		out[r.pos-1].Resource = raw
	}
	return out, nil
}

// rewriteReferences walks a decoded resource and rewrites each
// Reference.reference that names another entry of the bundle; base is the
// RESTful base of the entry's fullUrl ("" when it has none). It reports
// whether anything changed.
func rewriteReferences(v any, base string, targets map[string]string) bool {
	changed := false
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if s, ok := val.(string); ok && k == "reference" {
				if t, ok := resolveReference(s, base, targets); ok && t != s {
					x[k] = t
					changed = true
				}
				continue
			}
			if rewriteReferences(val, base, targets) {
				changed = true
			}
		}
	case []any:
		for _, val := range x {
			if rewriteReferences(val, base, targets) {
				changed = true
			}
		}
	}
	return changed
}

// resolveReference returns the "Type/id" of the entry ref names, if any.
func resolveReference(ref, base string, targets map[string]string) (string, bool) {
	if ref == "" || strings.HasPrefix(ref, "#") {
		return "", false
	}
	key := withoutVersion(ref)
	if !isAbsoluteURL(key) {
		if base == "" || strings.ContainsAny(key, "?#") {
			return "", false
		}
		key = base + key
	}
	t, ok := targets[key]
	return t, ok
}

// isAbsoluteURL reports whether ref is an absolute URL or URN rather than a
// relative Type/id reference.
func isAbsoluteURL(ref string) bool {
	return strings.HasPrefix(ref, "urn:") || strings.Contains(ref, "://")
}

// withoutVersion drops a "/_history/n" suffix.
func withoutVersion(u string) string {
	if i := strings.Index(u, "/_history/"); i >= 0 {
		return u[:i]
	}
	return u
}

// restBase returns the base of a RESTful fullUrl "[base]/Type/id" (with its
// trailing slash), or "" for any other fullUrl (urn:uuid:…, empty).
func restBase(fullURL string) string {
	if !strings.Contains(fullURL, "://") {
		return ""
	}
	j := strings.LastIndexByte(fullURL, '/')
	if j <= 0 || !validID(fullURL[j+1:]) {
		return ""
	}
	i := strings.LastIndexByte(fullURL[:j], '/')
	if i < 0 || !validResourceName(fullURL[i+1:j]) {
		return ""
	}
	return fullURL[:i+1]
}

// idFromFullURL returns the logical id a fullUrl gives a resource of type
// typ: the uuid of urn:uuid:…, or the id of a RESTful URL naming that type.
func idFromFullURL(fullURL, typ string) string {
	if id, ok := strings.CutPrefix(fullURL, "urn:uuid:"); ok {
		if validID(id) {
			return id
		}
		return ""
	}
	base := restBase(fullURL)
	if base == "" {
		return ""
	}
	rtype, id, _ := strings.Cut(fullURL[len(base):], "/")
	if rtype != typ {
		return ""
	}
	return id
}

// validResourceName reports whether s looks like a FHIR resource type.
func validResourceName(s string) bool {
	if s == "" || s[0] < 'A' || s[0] > 'Z' || len(s) > 64 {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// validID reports whether s is a FHIR id: 1-64 of A-Z a-z 0-9 - .
func validID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') && !(c >= '0' && c <= '9') && c != '-' && c != '.' {
			return false
		}
	}
	return true
}
