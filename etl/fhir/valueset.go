package fhir

import (
	"encoding/json"
	"strings"
)

// ValueSet is the part of a FHIR ValueSet carelens loads: its identity and
// its codes, from the expansion or, failing that, from compose includes that
// list their concepts.
type ValueSet struct {
	base
	URL        string `json:"url"`
	Version    string `json:"version"`
	Name       string `json:"name"`
	Title      string `json:"title"`
	Status     string `json:"status"`
	Identifier []struct {
		System string `json:"system"`
		Value  string `json:"value"`
	} `json:"identifier"`
	Expansion *struct {
		Contains []vsContains `json:"contains"`
	} `json:"expansion"`
	Compose *struct {
		Include []struct {
			System   string            `json:"system"`
			Version  string            `json:"version"`
			Concept  []vsConcept       `json:"concept"`
			Filter   []json.RawMessage `json:"filter"`
			ValueSet []string          `json:"valueSet"`
		} `json:"include"`
		Exclude []json.RawMessage `json:"exclude"`
	} `json:"compose"`
}

type vsContains struct {
	System   string       `json:"system"`
	Version  string       `json:"version"`
	Code     string       `json:"code"`
	Display  string       `json:"display"`
	Abstract bool         `json:"abstract"`
	Contains []vsContains `json:"contains"`
}

type vsConcept struct {
	Code    string `json:"code"`
	Display string `json:"display"`
}

// Code is one member of a value set.
type Code struct {
	System, Version, Code, Display string
}

// ParseValueSet decodes one ValueSet resource.
func ParseValueSet(raw []byte) (*ValueSet, error) {
	var vs ValueSet
	if err := decode(raw, "ValueSet", &vs, &vs.base); err != nil {
		return nil, err
	}
	if vs.URL == "" {
		return nil, bad("ValueSet without url")
	}
	return &vs, nil
}

// Codes returns the value set's members: the expansion (nested contains
// flattened, abstract entries skipped) when there is one, else the concepts
// listed in compose. A compose that needs a terminology server (filters,
// imported value sets, whole code systems, excludes) is a *RecordError.
func (vs *ValueSet) Codes() ([]Code, error) {
	var out []Code
	if vs.Expansion != nil {
		var walk func([]vsContains)
		walk = func(cs []vsContains) {
			for _, c := range cs {
				if c.Code != "" && c.System != "" && !c.Abstract {
					out = append(out, Code{System: c.System, Version: c.Version, Code: c.Code, Display: c.Display})
				}
				walk(c.Contains)
			}
		}
		walk(vs.Expansion.Contains)
		return out, nil
	}
	if vs.Compose == nil {
		return nil, bad("ValueSet has neither expansion nor compose")
	}
	if len(vs.Compose.Exclude) > 0 {
		return nil, bad("compose.exclude needs a terminology server: load the expansion")
	}
	for _, inc := range vs.Compose.Include {
		if len(inc.Filter) > 0 || len(inc.ValueSet) > 0 || len(inc.Concept) == 0 || inc.System == "" {
			return nil, bad("compose.include without an explicit concept list needs a terminology server: load the expansion")
		}
		for _, c := range inc.Concept {
			out = append(out, Code{System: inc.System, Version: inc.Version, Code: c.Code, Display: c.Display})
		}
	}
	return out, nil
}

// OID returns the value set's OID: from an identifier (urn:oid:… or a bare
// OID under urn:ietf:rfc:3986), else from a URL ending in one (VSAC), else "".
func (vs *ValueSet) OID() string {
	for _, id := range vs.Identifier {
		if v := strings.TrimPrefix(id.Value, "urn:oid:"); isOID(v) {
			return v
		}
	}
	if i := strings.LastIndex(vs.URL, "/"); i >= 0 && isOID(vs.URL[i+1:]) {
		return vs.URL[i+1:]
	}
	return ""
}

func isOID(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' || !strings.Contains(s, ".") {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != '.' && (c < '0' || c > '9') {
			return false
		}
		if s[i] == '.' && s[i-1] == '.' {
			return false
		}
	}
	return true
}

// Resources returns the resources of a JSON document: the entries of a
// Bundle, or the document itself.
func Resources(doc []byte) ([]json.RawMessage, error) {
	var head struct {
		ResourceType string `json:"resourceType"`
		Entry        []struct {
			Resource json.RawMessage `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(doc, &head); err != nil {
		return nil, bad("malformed JSON")
	}
	if head.ResourceType != "Bundle" {
		return []json.RawMessage{doc}, nil
	}
	out := make([]json.RawMessage, 0, len(head.Entry))
	for _, e := range head.Entry {
		if len(e.Resource) > 0 {
			out = append(out, e.Resource)
		}
	}
	return out, nil
}

// ResourceType returns the resourceType of a resource, or "".
func ResourceType(raw []byte) string {
	var b base
	json.Unmarshal(raw, &b)
	return b.ResourceType
}
