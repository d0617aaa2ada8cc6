package deid

import (
	"crypto/rand"
	"fmt"
	"math/big"
	"time"
)

// MaxShiftDays bounds a patient's date shift: offsets are drawn from
// [-MaxShiftDays, -1] ∪ [1, MaxShiftDays] days.
const MaxShiftDays = 365

// ShiftDays returns the date shift of the patient with surrogate s, in days,
// for the shifted profile: a random offset drawn uniformly (crypto/rand) from
// [-365, -1] ∪ [1, 365], never 0 (policy), the first time it is asked for and
// the same ever after once saved with the vault. It fails with
// ErrNotEncrypted on a plaintext vault, ErrErased for an erased patient and
// ErrUnknownSurrogate for a surrogate the vault never bound. It is safe for
// concurrent use: concurrent first calls for one patient get one offset.
func (v *Vault) ShiftDays(s string) (int, error) {
	v.mu.RLock()
	d, ok := v.shifts[s]
	v.mu.RUnlock()
	if ok {
		return d, nil
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if d, ok := v.shifts[s]; ok {
		return d, nil
	}
	if v.key.isZero() {
		return 0, fmt.Errorf("vault: date shift: %w", ErrNotEncrypted)
	}
	if s == "" || s == ambiguous || !v.used[s] {
		if s != "" && s != ambiguous && v.surrogateErased(s) {
			return 0, fmt.Errorf("vault: date shift: %w", ErrErased)
		}
		return 0, fmt.Errorf("vault: date shift: %w", ErrUnknownSurrogate)
	}
	d, err := drawShift()
	if err != nil {
		return 0, err
	}
	v.shifts[s] = d
	v.dirty = true
	return d, nil
}

// drawShift draws uniformly from [-MaxShiftDays, -1] ∪ [1, MaxShiftDays].
func drawShift() (int, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(2*MaxShiftDays))
	if err != nil {
		return 0, fmt.Errorf("vault: random date shift: %w", err)
	}
	d := int(n.Int64()) - MaxShiftDays // [-365, 364]
	if d >= 0 {
		d++ // [1, 365]
	}
	return d, nil
}

// ShiftDate moves t by the date shift of the patient with surrogate s
// (ShiftDays), keeping the time of day and the location: the calendar day
// moves, the wall clock does not. Errors are ShiftDays'.
func (v *Vault) ShiftDate(s string, t time.Time) (time.Time, error) {
	d, err := v.ShiftDays(s)
	if err != nil {
		return time.Time{}, err
	}
	return t.AddDate(0, 0, d), nil
}
