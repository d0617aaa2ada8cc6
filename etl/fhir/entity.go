package fhir

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/carelens/carelens/etl/datepolicy"
	"github.com/carelens/carelens/etl/deid"
	"github.com/carelens/carelens/internal/store"
)

// RecordError is a problem with one record: it is quarantined with Reason,
// which names fields, never their values.
type RecordError struct{ Reason string }

func (e *RecordError) Error() string { return e.Reason }

func bad(format string, args ...any) error { return &RecordError{Reason: fmt.Sprintf(format, args...)} }

// Mapper holds what mapping needs besides the resource: the vault that
// replaces identities, and the data's reference time. It is safe for
// concurrent use if the vault is.
type Mapper struct {
	Vault *deid.Vault
	// AsOf is the data's reference time (the export's transactionTime): ages
	// over 89 at AsOf are reported as 90+.
	AsOf time.Time
	// Dates is the profile's rule for a patient's dates (nil keeps them).
	Dates *datepolicy.Policy
}

// Entity is a resource type carelens loads into one table, through a
// ViewDefinition (LoadViews).
type Entity struct {
	Type  string
	Table *store.Table
	// Map decodes one resource and appends its rows (zero or more) to b. It
	// appends nothing when it returns an error; a *RecordError is the record's
	// fault, any other error aborts the load.
	Map func(m *Mapper, raw []byte, b *store.Batch, seq int64) error
	// KeyOf returns the table key of the resource with logical id id, as
	// loads store it; ok is false when such a resource was never loaded.
	KeyOf func(v *deid.Vault, id string) (key string, ok bool)
}

type base struct {
	ResourceType string `json:"resourceType"`
	ID           string `json:"id"`
}

func decode(raw []byte, typ string, v any, b *base) error {
	if err := json.Unmarshal(raw, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return bad("field %s: wrong JSON type", te.Field)
		}
		return bad("malformed JSON")
	}
	if b.ResourceType != typ {
		if b.ResourceType == "" {
			return bad("no resourceType")
		}
		return bad("resourceType %s where %s expected", safeToken(b.ResourceType), typ)
	}
	if b.ID == "" {
		return bad("%s without id", typ)
	}
	return nil
}

// safeToken returns s if it looks like a FHIR type name, else a placeholder,
// so that a reason never echoes arbitrary input.
func safeToken(s string) string {
	if len(s) > 64 {
		return "(invalid)"
	}
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			return "(invalid)"
		}
	}
	return s
}
