package deid

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"sort"
)

// A tombstone is a keyed hash that marks an erased key or surrogate without
// keeping it: HMAC-SHA256 under a key derived (HKDF) from the vault secret
// with a label of its own, so it can never equal a RecordKey, cut to 128
// bits. The input is "key" NUL ns NUL id for a key, "surrogate" NUL s for a
// surrogate.
type tombstone struct {
	kind byte // tombOfKey or tombOfPatient
	h    [16]byte
}

const (
	tombOfKey     = 'k'
	tombOfPatient = 'p'
)

const tombLabel = "carelens-vault tombstone v1"

func deriveTombKey(secret []byte) []byte {
	k, err := hkdf.Key(sha256.New, secret, nil, tombLabel, 32)
	if err != nil { // only for lengths HKDF cannot produce
		panic("deid: hkdf: " + err.Error())
	}
	return k
}

func (t tombstone) String() string { return hex.EncodeToString(t.h[:]) }

func parseTombstone(kind byte, s string) (tombstone, bool) {
	t := tombstone{kind: kind}
	if len(s) != 2*len(t.h) || !isHex(s) {
		return t, false
	}
	hex.Decode(t.h[:], []byte(s))
	return t, true
}

func (v *Vault) tomb(kind byte, parts ...string) tombstone {
	m, _ := v.tombs.Get().(hash.Hash)
	if m == nil {
		m = hmac.New(sha256.New, v.tombKey)
	}
	m.Reset()
	if kind == tombOfKey {
		m.Write([]byte("key"))
	} else {
		m.Write([]byte("surrogate"))
	}
	for _, p := range parts {
		m.Write([]byte{0})
		m.Write([]byte(p))
	}
	var sum [sha256.Size]byte
	t := tombstone{kind: kind}
	copy(t.h[:], m.Sum(sum[:0]))
	v.tombs.Put(m)
	return t
}

// keyErased and surrogateErased need v.mu held, for reading at least.
func (v *Vault) keyErased(ns, id string) bool {
	if len(v.erased) == 0 {
		return false
	}
	_, ok := v.erased[v.tomb(tombOfKey, ns, id)]
	return ok
}

func (v *Vault) surrogateErased(s string) bool {
	if len(v.erased) == 0 {
		return false
	}
	_, ok := v.erased[v.tomb(tombOfPatient, s)]
	return ok
}

// checkErased fails with ErrErased when (ns, id), or the surrogate s unless
// empty or ambiguous, is erased. The caller holds v.mu.
func (v *Vault) checkErased(ns, id, s string) error {
	if v.keyErased(ns, id) {
		return fmt.Errorf("vault: %s key: %w", ns, ErrErased)
	}
	if s != "" && s != ambiguous && v.surrogateErased(s) {
		return fmt.Errorf("vault: surrogate: %w", ErrErased)
	}
	return nil
}

// IsErased reports whether (ns, id) belonged to a patient erased by Erase.
func (v *Vault) IsErased(ns, id string) bool {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.keyErased(ns, id)
}

// Erasure reports what Erase removed: counts, never identifiers.
type Erasure struct {
	// Keys is the number of identity keys removed, per namespace.
	Keys map[string]int
	// DateShift reports whether the patient's date shift was removed.
	DateShift bool
}

// Total returns the number of identity keys removed.
func (e Erasure) Total() int {
	n := 0
	for _, c := range e.Keys {
		n += c
	}
	return n
}

// Erase forgets the patient with surrogate s (GDPR art. 17): it removes
// every key bound to s in any namespace and the patient's date shift, and
// records tombstones, keyed hashes and never the values, of each removed
// (namespace, id) and of s. From then on Surrogate, Bind and BindShared fail
// with ErrErased for those keys and for s, Lookup does not find them, IsErased
// reports them, and s is never issued again. Ambiguous keys, which link
// nobody, stay. The change is kept in memory until Save.
//
// Erase fails with ErrNotEncrypted on a plaintext vault, with ErrErased when s
// is already erased and with ErrUnknownSurrogate when the vault never bound s.
// It does not touch the warehouse: the caller deletes the patient's rows.
func (v *Vault) Erase(s string) (Erasure, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.key.isZero() {
		return Erasure{}, fmt.Errorf("vault: erase: %w", ErrNotEncrypted)
	}
	if s == "" || s == ambiguous || !v.used[s] {
		if s != "" && s != ambiguous && v.surrogateErased(s) {
			return Erasure{}, fmt.Errorf("vault: erase: %w", ErrErased)
		}
		return Erasure{}, fmt.Errorf("vault: erase: %w", ErrUnknownSurrogate)
	}
	e := Erasure{Keys: map[string]int{}}
	var gone []string
	for k, cur := range v.keys {
		if cur == s {
			gone = append(gone, k)
		}
	}
	// Tombstones first: the map grows, so len(v.erased) > 0 when checked.
	for _, k := range gone {
		ns, id := splitKey(k)
		v.erased[v.tomb(tombOfKey, ns, id)] = struct{}{}
		delete(v.keys, k)
		e.Keys[ns]++
	}
	v.erased[v.tomb(tombOfPatient, s)] = struct{}{}
	if _, ok := v.shifts[s]; ok {
		delete(v.shifts, s)
		e.DateShift = true
	}
	delete(v.used, s)
	v.dirty = true
	return e, nil
}

// Keys returns the namespaces of the keys bound to surrogate s, sorted and
// each once: what a report may say about a patient's links, never the ids.
// It scans the whole vault; nil when s has no keys.
func (v *Vault) Keys(s string) []string {
	if s == "" || s == ambiguous {
		return nil
	}
	v.mu.RLock()
	seen := map[string]bool{}
	for k, cur := range v.keys {
		if cur == s {
			ns, _ := splitKey(k)
			seen[ns] = true
		}
	}
	v.mu.RUnlock()
	if len(seen) == 0 {
		return nil
	}
	out := make([]string, 0, len(seen))
	for ns := range seen {
		out = append(out, ns)
	}
	sort.Strings(out)
	return out
}
