package etl

import (
	"time"

	"github.com/carelens/carelens/etl/deid"
)

// vaultShift is the vault's per-patient date shift.
func vaultShift(v *deid.Vault) func(string, time.Time) (time.Time, error) {
	if v == nil {
		return nil
	}
	return v.ShiftDate
}
