package deid

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"
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

// Vault file formats.
const (
	// FormatPlain is the legacy plaintext JSON-lines file (openPlain).
	FormatPlain = "carelens-vault/1"
	// FormatSealed is the encrypted file (OpenEncrypted): a plaintext JSON
	// header line, then the AES-256-GCM sealed payload (docs/vault.md).
	FormatSealed = "carelens-vault/2"
)

var (
	// ErrConflict reports that a key is already bound to another surrogate.
	ErrConflict = errors.New("identity already linked to another patient")
	// ErrErased reports that a key or a surrogate belongs to an erased
	// patient: nothing was created or bound.
	ErrErased = errors.New("patient erased")
	// ErrUnknownSurrogate reports a surrogate this vault never issued or
	// bound.
	ErrUnknownSurrogate = errors.New("unknown surrogate")
	// ErrNotEncrypted reports an operation that needs an encrypted vault
	// (date shifts, erasure) on a vault opened with openPlain.
	ErrNotEncrypted = errors.New("vault is not encrypted: open it with OpenEncrypted and a key")
	// ErrWrongKey reports a vault file sealed with another key than the one
	// given; the message names both key ids.
	ErrWrongKey = errors.New("wrong vault key")
	// ErrCorrupt reports a vault file that is damaged, truncated, altered
	// after sealing or not a vault file at all; the message says which.
	// Restore it from a backup.
	ErrCorrupt = errors.New("vault file damaged")
)

// Vault maps (namespace, source id) to random surrogate patient ids and holds
// the secret key for record pseudonyms, the per-patient date shifts and the
// tombstones of erased patients. It lives in its own file, readable by its
// owner only and sealed with a Key (OpenEncrypted), never in the analytics
// database. It is safe for concurrent use. Changes are kept in memory until
// Save; one process at a time may write a vault file.
type Vault struct {
	path string

	mu      sync.RWMutex
	key     Key               // zero: a plaintext vault (openPlain)
	created time.Time         // when the vault was first sealed (zero for plaintext)
	format  string            // format of the file as read; "" when new
	keys    map[string]string // ns + "\x00" + id -> surrogate (or ambiguous)
	used    map[string]bool   // surrogates handed out and live
	shifts  map[string]int    // surrogate -> date shift in days, never 0
	erased  map[tombstone]struct{}
	secret  []byte    // HMAC key for record pseudonyms
	tombKey []byte    // HMAC key for tombstones, derived from secret
	dirty   bool      // changes not yet saved
	random  io.Reader // source of surrogates; nil: crypto/rand (tests replace it)
	macs    sync.Pool
	tombs   sync.Pool
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

func newVault(path string) *Vault {
	return &Vault{path: path, keys: map[string]string{}, used: map[string]bool{},
		shifts: map[string]int{}, erased: map[tombstone]struct{}{}}
}

// setSecret installs the record-key secret and the tombstone key derived
// from it.
func (v *Vault) setSecret(secret []byte) error {
	if len(secret) != 32 {
		return errors.New("bad secret")
	}
	v.secret = secret
	v.tombKey = deriveTombKey(secret)
	return nil
}

func (v *Vault) newSecret() error {
	s := make([]byte, 32)
	if _, err := rand.Read(s); err != nil {
		return fmt.Errorf("vault: new secret: %w", err)
	}
	return v.setSecret(s)
}

// openPlain loads the plaintext vault at path, or starts an empty one with a
// fresh secret when the file does not exist (Save creates it). The file is
// read and written as carelens-vault/1, unencrypted; such a vault cannot keep
// date shifts or erasures (ErrNotEncrypted), and it refuses a sealed file.
//
// Only the migration path and tests use it: carelens opens vaults with
// OpenEncrypted, which reads this format too and seals it on the next Save.
func openPlain(path string) (*Vault, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		v := newVault(path)
		if err := v.newSecret(); err != nil {
			return nil, err
		}
		return v, nil
	}
	if err != nil {
		return nil, fmt.Errorf("vault: %w", err)
	}
	switch f := sniffFormat(data); f {
	case FormatPlain:
		return readPlain(path, data)
	case FormatSealed:
		return nil, fmt.Errorf("vault %s is encrypted (%s): open it with its key", path, f)
	}
	return nil, unknownFormat(path, data)
}

// sniffFormat returns the format named by the first line of a vault file,
// or "" when it names none.
func sniffFormat(data []byte) string {
	line, _, _ := bytes.Cut(data, []byte("\n"))
	var h struct {
		Format string `json:"format"`
	}
	if json.Unmarshal(line, &h) != nil {
		return ""
	}
	return h.Format
}

// readPlain parses a carelens-vault/1 file: a header line with the secret,
// then one JSON entry per line.
func readPlain(path string, data []byte) (*Vault, error) {
	v := newVault(path)
	v.format = FormatPlain
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	if !sc.Scan() {
		return nil, fmt.Errorf("vault %s: empty or unreadable file: %w", path, ErrCorrupt)
	}
	var head vaultHead
	if err := json.Unmarshal(sc.Bytes(), &head); err != nil || head.Format != FormatPlain {
		return nil, fmt.Errorf("vault %s: not a %s file: %w", path, FormatPlain, ErrCorrupt)
	}
	secret, err := hex.DecodeString(head.Secret)
	if err != nil || v.setSecret(secret) != nil {
		return nil, fmt.Errorf("vault %s: bad secret: %w", path, ErrCorrupt)
	}
	line := 1
	for sc.Scan() {
		line++
		var e entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.NS == "" || e.Surrogate == "" {
			return nil, fmt.Errorf("vault %s:%d: corrupt entry: %w", path, line, ErrCorrupt)
		}
		v.addEntry(e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("vault %s: %w", path, err)
	}
	return v, nil
}

func (v *Vault) addEntry(e entry) {
	v.keys[e.NS+"\x00"+e.ID] = e.Surrogate
	if e.Surrogate != ambiguous {
		v.used[e.Surrogate] = true
	}
}

// Len returns the number of identity keys in the vault.
func (v *Vault) Len() int {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return len(v.keys)
}

// ambiguous marks a key that names more than one person: it links nobody.
const ambiguous = "-"

// Lookup returns the surrogate bound to (ns, id); false when there is none,
// the key is ambiguous or it belonged to an erased patient.
func (v *Vault) Lookup(ns, id string) (string, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	s, ok := v.keys[ns+"\x00"+id]
	return s, ok && s != ambiguous
}

// BindShared binds (ns, id) to s like Bind, but a key found to name two
// people (an MRN value issued by two assigning authorities, a duplicate
// record) becomes ambiguous for good instead of failing: Lookup never
// resolves it again. It reports whether the key is ambiguous. A key of an
// erased patient, or an erased s, fails with ErrErased and changes nothing.
func (v *Vault) BindShared(ns, id, s string) (bool, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	k := ns + "\x00" + id
	cur, ok := v.keys[k]
	switch {
	case !ok:
		if err := v.checkErased(ns, id, s); err != nil {
			return false, err
		}
		v.bind(k, s)
		return false, nil
	case cur == s:
		return false, nil
	case cur != ambiguous:
		if err := v.checkErased(ns, id, s); err != nil {
			return false, err
		}
		v.keys[k] = ambiguous
		v.dirty = true
	}
	return true, nil
}

// Surrogate returns the surrogate bound to (ns, id), binding a new random one
// when there is none. A key of an erased patient fails with ErrErased and
// creates nothing.
func (v *Vault) Surrogate(ns, id string) (string, error) {
	k := ns + "\x00" + id
	v.mu.RLock()
	s, ok := v.keys[k]
	v.mu.RUnlock()
	if ok {
		return s, nil
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if s, ok := v.keys[k]; ok {
		return s, nil
	}
	if err := v.checkErased(ns, id, ""); err != nil {
		return "", err
	}
	s, err := v.newSurrogate()
	if err != nil {
		return "", err
	}
	v.bind(k, s)
	return s, nil
}

// Bind binds (ns, id) to surrogate s. Binding an already-bound key to the same
// surrogate is a no-op; to a different one it fails with ErrConflict and
// changes nothing. A key of an erased patient, or an erased s, fails with
// ErrErased and changes nothing.
func (v *Vault) Bind(ns, id, s string) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	k := ns + "\x00" + id
	if cur, ok := v.keys[k]; ok {
		if cur != s {
			return ErrConflict
		}
		return nil
	}
	if err := v.checkErased(ns, id, s); err != nil {
		return err
	}
	v.bind(k, s)
	return nil
}

func (v *Vault) bind(k, s string) {
	v.keys[k] = s
	if s != ambiguous {
		v.used[s] = true
	}
	v.dirty = true
}

// newSurrogate draws a random 64-bit id, unrelated to any identifier and
// never one handed out before, erased ones included.
func (v *Vault) newSurrogate() (string, error) {
	src := v.random
	if src == nil {
		src = rand.Reader
	}
	b := make([]byte, 8)
	for {
		if _, err := io.ReadFull(src, b); err != nil {
			return "", fmt.Errorf("vault: random surrogate: %w", err)
		}
		s := hex.EncodeToString(b)
		if !v.used[s] && !v.surrogateErased(s) {
			return s, nil
		}
	}
}

// EachSourceID calls fn with every (namespace, source id) in the vault,
// ambiguous keys included, in no particular order, until fn returns false.
// It iterates over a snapshot taken under the lock, so fn may use the vault;
// keys added meanwhile are not visited. It has the shape of an
// iter.Seq2[string, string]: for ns, id := range v.EachSourceID { … }.
func (v *Vault) EachSourceID(fn func(ns, id string) bool) {
	v.mu.RLock()
	snap := make([]string, 0, len(v.keys))
	for k := range v.keys {
		snap = append(snap, k)
	}
	v.mu.RUnlock()
	for _, k := range snap {
		if !fn(splitKey(k)) {
			return
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

// Info describes a vault for logs and status reports: counts and key ids,
// never identifiers.
type Info struct {
	Path string
	// Format is the format of the file as it was read: FormatPlain,
	// FormatSealed, or "" for a vault not saved yet.
	Format string
	// KeyID is the id of the key the vault is sealed with on Save; "" for a
	// plaintext vault (openPlain).
	KeyID string
	// Created is when the vault was first sealed (zero for plaintext).
	Created time.Time
	// Keys, Patients, Shifts and Tombstones count identity keys (ambiguous
	// ones included), live surrogates, date shifts and erased keys.
	Keys, Patients, Shifts, Tombstones int
	// Unsaved reports changes not yet written by Save.
	Unsaved bool
}

// Migrating reports whether a plaintext carelens-vault/1 file was opened
// with a key: the next Save replaces it with a sealed carelens-vault/2 file.
func (i Info) Migrating() bool { return i.Format == FormatPlain && i.KeyID != "" }

// LogValue logs the counts, format and key id: nothing that identifies.
func (i Info) LogValue() slog.Value {
	return slog.GroupValue(slog.String("path", i.Path), slog.String("format", i.Format),
		slog.String("key_id", i.KeyID), slog.Bool("migrating", i.Migrating()),
		slog.Int("keys", i.Keys), slog.Int("patients", i.Patients), slog.Int("shifts", i.Shifts),
		slog.Int("tombstones", i.Tombstones), slog.Bool("unsaved", i.Unsaved))
}

// Info returns the vault's description.
func (v *Vault) Info() Info {
	v.mu.RLock()
	defer v.mu.RUnlock()
	i := Info{Path: v.path, Format: v.format, Created: v.created, Keys: len(v.keys),
		Patients: len(v.used), Shifts: len(v.shifts), Unsaved: v.dirty}
	for t := range v.erased {
		if t.kind == tombOfKey {
			i.Tombstones++
		}
	}
	if !v.key.isZero() {
		i.KeyID = v.key.ID()
	}
	return i
}

// Save writes the vault atomically (temporary file, fsync, rename, fsync of
// the directory) with owner-only permissions: sealed as carelens-vault/2 when
// the vault has a key, else as plaintext carelens-vault/1. It writes nothing
// when nothing changed and the file exists. Callers save before committing
// the warehouse transaction that uses the new surrogates and date shifts, so
// the warehouse never holds a surrogate the vault has lost.
func (v *Vault) Save() error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if !v.dirty && fileExists(v.path) {
		return nil
	}
	if err := v.writeLocked(v.key); err != nil {
		return err
	}
	v.dirty = false
	if !v.key.isZero() {
		v.format = FormatSealed
	} else {
		v.format = FormatPlain
	}
	return nil
}

// writeLocked writes the whole vault to its file, sealed with key (plaintext
// when key is zero). The caller holds v.mu.
func (v *Vault) writeLocked(key Key) error {
	if key.isZero() {
		if len(v.shifts) > 0 || len(v.erased) > 0 {
			// Unreachable through the API (ShiftDays and Erase refuse); kept
			// so that a plaintext file never silently drops them.
			return fmt.Errorf("vault: date shifts and erasures cannot be written unencrypted: %w", ErrNotEncrypted)
		}
		return writeFileAtomic(v.path, v.writePlain)
	}
	file, err := v.seal(key)
	if err != nil {
		return err
	}
	return writeFileAtomic(v.path, func(w io.Writer) error {
		_, err := w.Write(file)
		return err
	})
}

func (v *Vault) writePlain(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	enc := json.NewEncoder(bw)
	if err := enc.Encode(vaultHead{Format: FormatPlain, Secret: hex.EncodeToString(v.secret)}); err != nil {
		return err
	}
	for k, s := range v.keys {
		ns, id := splitKey(k)
		if err := enc.Encode(entry{NS: ns, ID: id, Surrogate: s}); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// writeFileAtomic replaces path with what write produces: a temporary file
// in the same directory (mode 0600), fsync, rename over path, fsync of the
// directory. On any failure path is left as it was.
func writeFileAtomic(path string, write func(io.Writer) error) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("vault: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".vault-*")
	if err != nil {
		return fmt.Errorf("vault: %w", err)
	}
	renamed := false
	defer func() {
		if !renamed {
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("vault: %w", err)
	}
	if err := write(tmp); err != nil {
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
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("vault: %w", err)
	}
	renamed = true
	return syncDir(dir)
}

// syncDir makes a rename or create in dir durable.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" { // directories cannot be opened for sync there
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("vault: sync dir: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("vault: sync dir: %w", err)
	}
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
