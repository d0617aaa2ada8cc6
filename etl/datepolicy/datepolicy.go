// Package datepolicy applies a de-identification profile's rule for dates
// tied to a person (../shared/PRIVACY.md): limited keeps them, shifted moves
// every date of a patient by the patient's own offset from the vault, and
// safe_harbor keeps only the year. Every source's mapping goes through it.
package datepolicy

import (
	"fmt"
	"time"

	"github.com/carelens/carelens/etl/deid"
)

// Policy is one load's date rule.
type Policy struct {
	Profile deid.Profile
	// Shift moves t by the patient's offset (the vault's ShiftDate); needed
	// by the shifted profile only.
	Shift func(patient string, t time.Time) (time.Time, error)
}

// Limited is the policy that keeps dates, for callers without a profile
// (tests, value sets).
var Limited = &Policy{Profile: deid.ProfileLimited}

// Date returns the date or time t of the patient (a surrogate) as the
// profile allows it to be stored. The zero time stays zero.
func (p *Policy) Date(patient string, t time.Time) (time.Time, error) {
	if p == nil || t.IsZero() {
		return t, nil
	}
	switch p.Profile {
	case deid.ProfileLimited:
		return t, nil
	case deid.ProfileShifted:
		if p.Shift == nil {
			return t, fmt.Errorf("shifted profile without a date shift")
		}
		if patient == "" {
			return t, fmt.Errorf("shifted profile: a date without its patient cannot be shifted")
		}
		return p.Shift(patient, t)
	case deid.ProfileSafeHarbor:
		return time.Date(t.Year(), 1, 1, 0, 0, 0, 0, time.UTC), nil
	}
	return t, fmt.Errorf("unknown de-identification profile %q", p.Profile)
}

// KeepsBirthDate reports whether birth dates may be stored (limited only:
// the other profiles keep the birth year).
func (p *Policy) KeepsBirthDate() bool { return p == nil || p.Profile == deid.ProfileLimited }
