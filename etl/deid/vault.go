package deid

import (
	"bufio"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// Namespaces of vault keys. A key is a source system's identifier of a
// person; several keys may point at one surrogate (an EHR patient id, their
// MRN and the CRM contact id of the same person).
const (
	NSPatient  = "ehr:patient"   // FHIR Patient.id
	NSMRN      = "ehr:mrn"       // medical record number (Patient.identifier MR) as system|value
	NSMRNValue = "ehr:mrn-value" // the MRN value alone, as a CRM knows it
	NSContact  = "crm:contact"   // CRM contact_id
)

const vaultHeader = "carelens-vault/1"

// ErrConflict reports that a key is already bound to another surrogate.
var ErrConflict = errors.New("identity already linked to another patient")

// Vault maps (namespace, source id) to random surrogate patient ids and holds
// the secret key for record pseudonyms. It lives in its own file, readable by
// its owner only, and never in the analytics database. It is safe for
// concurrent use. Changes are kept in memory until Save.
type Vault struct {
	path string

	mu     sync.Mutex
	keys   map[string]string // ns + "\x00" + id -> surrogate
	used   map[string]bool   // surrogates handed out
	secret []byte            // HMAC key for record pseudonyms
	added  []entry           // entries added since load, in order
	macs   sync.Pool         // *recordMAC keyed with secret
}

type entry struct {
	NS        string `json:"ns"`
	ID        string `json:"id"`
	Surrogate string `json:"s"`
}

type vaultHead struct {
	Format string `json:"format"`
	Secret string `json:"secret"`
}

// OpenVault loads the vault at path, or starts an empty one with a fresh
// secret when the file does not exist (Save creates it).
func OpenVault(path string) (*Vault, error) {
	v := &Vault{path: path, keys: map[string]string{}, used: map[string]bool{}}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		v.secret = make([]byte, 32)
		if _, err := rand.Read(v.secret); err != nil {
			return nil, fmt.Errorf("vault: new secret: %w", err)
		}
		return v, nil
	}
	if err != nil {
		return nil, fmt.Errorf("vault: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	if !sc.Scan() {
		return nil, fmt.Errorf("vault %s: empty or unreadable file", path)
	}
	var head vaultHead
	if err := json.Unmarshal(sc.Bytes(), &head); err != nil || head.Format != vaultHeader {
		return nil, fmt.Errorf("vault %s: not a %s file", path, vaultHeader)
	}
	v.secret, err = hex.DecodeString(head.Secret)
	if err != nil || len(v.secret) != 32 {
		return nil, fmt.Errorf("vault %s: bad secret", path)
	}
	line := 1
	for sc.Scan() {
		line++
		var e entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.NS == "" || e.Surrogate == "" {
			return nil, fmt.Errorf("vault %s:%d: corrupt entry", path, line)
		}
		v.keys[e.NS+"\x00"+e.ID] = e.Surrogate
		v.used[e.Surrogate] = true
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("vault %s: %w", path, err)
	}
	return v, nil
}

// Len returns the number of identity keys in the vault.
func (v *Vault) Len() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return len(v.keys)
}

// ambiguous marks a key that names more than one person: it links nobody.
const ambiguous = "-"

// Lookup returns the surrogate bound to (ns, id); false when there is none or
// the key is ambiguous.
func (v *Vault) Lookup(ns, id string) (string, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	s, ok := v.keys[ns+"\x00"+id]
	return s, ok && s != ambiguous
}

// BindShared binds (ns, id) to s like Bind, but a key found to name two
// people (an MRN value issued by two assigning authorities, a duplicate
// record) becomes ambiguous for good instead of failing: Lookup never
// resolves it again. It reports whether the key is ambiguous.
func (v *Vault) BindShared(ns, id, s string) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	k := ns + "\x00" + id
	cur, ok := v.keys[k]
	switch {
	case !ok:
		v.bind(ns, id, s)
		return false
	case cur == s:
		return false
	case cur != ambiguous:
		v.keys[k] = ambiguous
		v.added = append(v.added, entry{NS: ns, ID: id, Surrogate: ambiguous})
	}
	return true
}

// Surrogate returns the surrogate bound to (ns, id), binding a new random one
// when there is none.
func (v *Vault) Surrogate(ns, id string) (string, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if s, ok := v.keys[ns+"\x00"+id]; ok {
		return s, nil
	}
	s, err := v.newSurrogate()
	if err != nil {
		return "", err
	}
	v.bind(ns, id, s)
	return s, nil
}

// Bind binds (ns, id) to surrogate s. Binding an already-bound key to the same
// surrogate is a no-op; to a different one it fails with ErrConflict and
// changes nothing.
func (v *Vault) Bind(ns, id, s string) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if cur, ok := v.keys[ns+"\x00"+id]; ok {
		if cur != s {
			return ErrConflict
		}
		return nil
	}
	v.bind(ns, id, s)
	return nil
}

func (v *Vault) bind(ns, id, s string) {
	v.keys[ns+"\x00"+id] = s
	v.used[s] = true
	v.added = append(v.added, entry{NS: ns, ID: id, Surrogate: s})
}

// newSurrogate draws a random 64-bit id, unrelated to any identifier.
func (v *Vault) newSurrogate() (string, error) {
	b := make([]byte, 8)
	for {
		if _, err := rand.Read(b); err != nil {
			return "", fmt.Errorf("vault: random surrogate: %w", err)
		}
		s := hex.EncodeToString(b)
		if !v.used[s] {
			return s, nil
		}
	}
}

// RecordKey returns the pseudonym of a source record id (an encounter, an
// appointment, a message): HMAC-SHA256 under the vault's secret, truncated to
// 128 bits. It is stable across loads, cannot be reversed or recomputed
// without the vault, and identifies a record, not a person.
func (v *Vault) RecordKey(kind, id string) string {
	k, _ := v.macs.Get().(*recordMAC)
	if k == nil {
		k = &recordMAC{h: hmac.New(sha256.New, v.secret)}
	}
	k.h.Reset()
	k.buf = append(append(append(k.buf[:0], kind...), 0), id...)
	k.h.Write(k.buf)
	k.sum = k.h.Sum(k.sum[:0])
	var out [32]byte
	hex.Encode(out[:], k.sum[:16])
	v.macs.Put(k)
	return string(out[:])
}

// recordMAC is a reusable HMAC state for RecordKey: keying one costs more
// than hashing a short id.
type recordMAC struct {
	h   hash.Hash
	buf []byte
	sum []byte
}

// Save writes the vault atomically (temporary file, fsync, rename) with
// owner-only permissions. Callers save before committing the warehouse
// transaction that uses the new surrogates, so the warehouse never holds a
// surrogate the vault has lost.
func (v *Vault) Save() error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.added) == 0 && fileExists(v.path) {
		return nil
	}
	dir := filepath.Dir(v.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("vault: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".vault-*")
	if err != nil {
		return fmt.Errorf("vault: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("vault: %w", err)
	}
	w := bufio.NewWriterSize(tmp, 1<<20)
	enc := json.NewEncoder(w)
	enc.Encode(vaultHead{Format: vaultHeader, Secret: hex.EncodeToString(v.secret)})
	for k, s := range v.keys {
		ns, id := splitKey(k)
		enc.Encode(entry{NS: ns, ID: id, Surrogate: s})
	}
	if err := w.Flush(); err != nil {
		tmp.Close()
		return fmt.Errorf("vault: write: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("vault: sync: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("vault: %w", err)
	}
	if err := os.Rename(tmp.Name(), v.path); err != nil {
		return fmt.Errorf("vault: %w", err)
	}
	v.added = v.added[:0]
	return nil
}

func splitKey(k string) (ns, id string) {
	for i := 0; i < len(k); i++ {
		if k[i] == 0 {
			return k[:i], k[i+1:]
		}
	}
	return k, ""
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
