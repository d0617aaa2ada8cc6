package main

import (
	"context"
	"strings"

	"github.com/carelens/carelens/internal/audit"
	"github.com/carelens/carelens/internal/config"
)

// auditor writes to the configured audit trail; it implements
// server.Auditor.
type auditor struct{ log *audit.Log }

func openAuditor(c config.Config) (*auditor, error) {
	if err := ensureDir(c.AuditLog); err != nil {
		return nil, err
	}
	l, err := audit.Open(c.AuditLog)
	if err != nil {
		return nil, err
	}
	return &auditor{log: l}, nil
}

// Record appends one entry; details are flattened to the audit trail's
// scalar values (a map becomes key.subkey entries).
func (a *auditor) Record(ctx context.Context, actor, action string, details map[string]any) error {
	return a.log.Append(ctx, audit.Entry{Actor: actor, Action: action, Details: flatten(details)})
}

func (a *auditor) Close() error { return a.log.Close() }

// flatten turns nested maps of counts into dotted keys the audit trail
// accepts (lower case, digits, '_' and '.').
func flatten(details map[string]any) map[string]any {
	out := map[string]any{}
	var walk func(prefix string, m map[string]any)
	add := func(k string, v any) {
		switch x := v.(type) {
		case map[string]any:
			walk(k+".", x)
		case map[string]int64:
			for kk, vv := range x {
				out[auditKey(k+"."+kk)] = vv
			}
		case map[string]int:
			for kk, vv := range x {
				out[auditKey(k+"."+kk)] = vv
			}
		default:
			out[auditKey(k)] = v
		}
	}
	walk = func(prefix string, m map[string]any) {
		for k, v := range m {
			add(prefix+k, v)
		}
	}
	walk("", details)
	return out
}

func auditKey(k string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_', r == '.':
			return r
		case r >= 'A' && r <= 'Z':
			return r + ('a' - 'A')
		}
		return '_'
	}, k)
}

// recordAudit appends one entry to the configured audit trail.
func recordAudit(c config.Config, actor, action string, details map[string]any) error {
	a, err := openAuditor(c)
	if err != nil {
		return err
	}
	defer a.Close()
	return a.Record(context.Background(), actor, action, details)
}
