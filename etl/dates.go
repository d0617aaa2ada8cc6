package etl

import (
	"github.com/carelens/carelens/etl/datepolicy"
	"github.com/carelens/carelens/etl/deid"
)

// datePolicyFor returns a load's date rule: the profile's, with the vault's
// per-patient shift.
func datePolicyFor(p deid.Profile, v *deid.Vault) *datepolicy.Policy {
	if p == "" {
		p = deid.ProfileLimited
	}
	pol := &datepolicy.Policy{Profile: p}
	if v != nil {
		pol.Shift = v.ShiftDate
	}
	return pol
}
