package fhir

import (
	"fmt"
	"io/fs"
	"sort"
)

// Terminology holds the ConceptMaps and ValueSets that views refer to by
// canonical URL (tags carelens:conceptmap and carelens:valueset), read from
// the terminology/ folder beside the views.
type Terminology struct {
	maps map[string]*conceptMap
	sets map[string]map[string]bool
}

// conceptMap is a ConceptMap reduced to what a column needs: source code →
// target code, and what an unmapped code becomes.
type conceptMap struct {
	url     string
	targets map[string]string
	// unmapped is "fixed" (fixed is the target), "provided" (the source code
	// is kept) or "" (the record is quarantined).
	unmapped string
	fixed    string
}

// translate maps a code; ok is false when the map has no answer for it.
func (c *conceptMap) translate(code string) (string, bool) {
	if t, ok := c.targets[code]; ok {
		return t, true
	}
	switch c.unmapped {
	case "fixed":
		return c.fixed, true
	case "provided":
		return code, true
	}
	return "", false
}

type conceptMapRes struct {
	base
	URL   string `json:"url"`
	Group []struct {
		Source  string `json:"source"`
		Element []struct {
			Code   string `json:"code"`
			Target []struct {
				Code        string `json:"code"`
				Equivalence string `json:"equivalence"`
			} `json:"target"`
		} `json:"element"`
		Unmapped *struct {
			Mode string `json:"mode"`
			Code string `json:"code"`
		} `json:"unmapped"`
	} `json:"group"`
}

// LoadTerminology reads every terminology/*.json in fsys: ConceptMap and
// ValueSet resources (a ValueSet lists its codes in an expansion or in
// compose concepts). It reports every problem as "file: what".
func LoadTerminology(fsys fs.FS) (*Terminology, []error) {
	t := &Terminology{maps: map[string]*conceptMap{}, sets: map[string]map[string]bool{}}
	files, err := fs.Glob(fsys, "terminology/*.json")
	if err != nil {
		return nil, []error{err}
	}
	var errs []error
	seen := map[string]string{} // url -> file
	for _, f := range files {
		raw, err := fs.ReadFile(fsys, f)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f, err))
			continue
		}
		var url string
		switch rt := ResourceType(raw); rt {
		case "ConceptMap":
			var cm *conceptMap
			cm, err = parseConceptMap(raw)
			if err == nil {
				url = cm.url
				if seen[url] == "" {
					t.maps[url] = cm
				}
			}
		case "ValueSet":
			var vs *ValueSet
			var codes []Code
			if vs, err = ParseValueSet(raw); err == nil {
				codes, err = vs.Codes()
			}
			if err == nil {
				url = vs.URL
				if seen[url] == "" {
					set := map[string]bool{}
					for _, c := range codes {
						set[c.Code] = true
					}
					t.sets[url] = set
				}
			}
		default:
			err = fmt.Errorf("a %q resource; only ConceptMap and ValueSet belong here", safeToken(rt))
		}
		if err == nil {
			if prev := seen[url]; prev != "" {
				err = fmt.Errorf("url %s is already defined by %s", url, prev)
			} else {
				seen[url] = f
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f, err))
		}
	}
	return t, errs
}

func parseConceptMap(raw []byte) (*conceptMap, error) {
	var r conceptMapRes
	if err := decode(raw, "ConceptMap", &r, &r.base); err != nil {
		return nil, err
	}
	if r.URL == "" {
		return nil, fmt.Errorf("ConceptMap without url")
	}
	cm := &conceptMap{url: r.URL, targets: map[string]string{}}
	for gi, g := range r.Group {
		for _, e := range g.Element {
			for _, tg := range e.Target {
				if tg.Equivalence == "unmatched" || tg.Equivalence == "disjoint" || tg.Code == "" {
					continue // not a mapping
				}
				if prev, ok := cm.targets[e.Code]; ok && prev != tg.Code {
					return nil, fmt.Errorf("code %q maps to both %q and %q", e.Code, prev, tg.Code)
				}
				cm.targets[e.Code] = tg.Code
			}
		}
		if u := g.Unmapped; u != nil {
			switch {
			case u.Mode == "fixed" && u.Code != "":
			case u.Mode == "provided":
			default:
				return nil, fmt.Errorf("group %d: unmapped mode %q is not supported (fixed with a code, or provided)", gi, u.Mode)
			}
			if cm.unmapped != "" && (cm.unmapped != u.Mode || cm.fixed != u.Code) {
				return nil, fmt.Errorf("groups disagree on unmapped codes")
			}
			cm.unmapped, cm.fixed = u.Mode, u.Code
		}
	}
	if len(cm.targets) == 0 && cm.unmapped == "" {
		return nil, fmt.Errorf("ConceptMap maps nothing")
	}
	return cm, nil
}

// URLs returns the canonical URLs of the loaded maps and sets, sorted.
func (t *Terminology) URLs() []string {
	var out []string
	for u := range t.maps {
		out = append(out, u)
	}
	for u := range t.sets {
		out = append(out, u)
	}
	sort.Strings(out)
	return out
}
