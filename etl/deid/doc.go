// Package deid turns identified source records into de-identified warehouse
// values: it owns the vault that maps source identities to random surrogate
// patient ids, the keyed pseudonyms of source record ids, the per-patient
// date shifts of the shifted profile and the tombstones of erased patients,
// and the quasi-identifier rules (ZIP3, ages over 89) of the
// de-identification profile.
//
// The vault file is sealed at rest with AES-256-GCM under a Key supplied
// through CARELENS_VAULT_KEY or a key file (LoadKey); docs/vault.md describes
// the format, backups, key rotation and erasure. Nothing in this package logs
// or returns identifier values, surrogates, secrets or key material in
// errors; key ids are safe to show.
package deid
