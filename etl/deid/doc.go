// Package deid turns identified source records into de-identified warehouse
// values: it owns the vault that maps source identities to random surrogate
// patient ids, the keyed pseudonyms of source record ids, and the
// quasi-identifier rules (ZIP3, ages over 89) of the de-identification
// profile. Nothing in this package logs or returns identifier values.
package deid
