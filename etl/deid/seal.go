package deid

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// A carelens-vault/2 file is
//
//	{"format":"carelens-vault/2","key_id":…,"created":…,"nonce":…,"size":…}\n
//	nonce (12 bytes) ‖ AES-256-GCM ciphertext ‖ tag (16 bytes)
//
// The header line is the additional authenticated data of the seal, so no
// field of it can be changed or swapped without the open failing. It repeats
// the nonce and the size of the sealed part so that a header moved from
// another vault file, and a truncated file, are told apart from a modified
// one before decryption. The plaintext is the JSON of sealedPayload.

const (
	nonceSize = 12
	tagSize   = 16
	// maxHeader bounds the header line; a real one is about 150 bytes.
	maxHeader = 4096
)

type sealHeader struct {
	Format  string `json:"format"`
	KeyID   string `json:"key_id"`
	Created string `json:"created"` // RFC 3339, UTC: when the vault was first sealed
	Nonce   string `json:"nonce"`   // hex, the same 12 bytes that start the sealed part
	Size    int64  `json:"size"`    // bytes after the header line: nonce ‖ ciphertext ‖ tag
}

// sealedPayload is what the seal protects.
type sealedPayload struct {
	Secret  string         `json:"secret"` // hex, the RecordKey secret
	Entries []entry        `json:"entries"`
	Shifts  map[string]int `json:"shifts"`  // surrogate -> days
	Erased  []string       `json:"erased"`  // tombstones of erased keys, hex
	Retired []string       `json:"retired"` // tombstones of erased surrogates, hex
}

// OpenEncrypted opens the vault at path sealed with key, or starts an empty
// one with a fresh secret when the file does not exist (Save creates it).
// A plaintext carelens-vault/1 file is read as it is and sealed with key by
// the next Save (Info().Migrating reports it; log it). A file sealed with
// another key fails with ErrWrongKey naming both key ids; a damaged,
// truncated or altered file fails with ErrCorrupt saying which.
func OpenEncrypted(path string, key Key) (*Vault, error) {
	if key.isZero() {
		return nil, fmt.Errorf("vault %s: no key given: %w", path, ErrNoKey)
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		v := newVault(path)
		if err := v.newSecret(); err != nil {
			return nil, err
		}
		v.key = key
		v.created = time.Now().UTC().Truncate(time.Second)
		v.dirty = true
		return v, nil
	}
	if err != nil {
		return nil, fmt.Errorf("vault: %w", err)
	}
	switch sniffFormat(data) {
	case FormatPlain:
		v, err := readPlain(path, data)
		if err != nil {
			return nil, err
		}
		v.key = key
		v.created = time.Now().UTC().Truncate(time.Second)
		v.dirty = true // migrate on the next Save
		return v, nil
	case FormatSealed:
		return openSealed(path, data, key)
	}
	return nil, unknownFormat(path, data)
}

// unknownFormat explains a file whose first line names no known format.
func unknownFormat(path string, data []byte) error {
	line, _, _ := bytes.Cut(data, []byte("\n"))
	if bytes.Contains(line, []byte("carelens-vault/")) || bytes.Contains(line, []byte(`"key_id"`)) {
		return fmt.Errorf("vault %s: the header line is damaged or truncated, or names a format this carelens does not know: %w", path, ErrCorrupt)
	}
	return fmt.Errorf("vault %s: not a carelens vault file (no %s or %s header): %w", path, FormatSealed, FormatPlain, ErrCorrupt)
}

func openSealed(path string, data []byte, key Key) (*Vault, error) {
	h, plain, err := unseal(data, key)
	if err != nil {
		return nil, fmt.Errorf("vault %s: %w", path, err)
	}
	defer clear(plain)
	var p sealedPayload
	dec := json.NewDecoder(bytes.NewReader(plain))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		// The decoder's message may quote payload bytes: not shown.
		return nil, fmt.Errorf("vault %s: the sealed payload authenticates but cannot be decoded (written by a newer carelens?): %w", path, ErrCorrupt)
	}
	v := newVault(path)
	v.key = key
	v.format = FormatSealed
	v.created, _ = time.Parse(time.RFC3339, h.Created)
	bad := func(what string) error {
		return fmt.Errorf("vault %s: sealed payload holds %s: %w", path, what, ErrCorrupt)
	}
	secret, err := hex.DecodeString(p.Secret)
	if err != nil || v.setSecret(secret) != nil {
		return nil, bad("a bad secret")
	}
	for _, e := range p.Entries {
		if e.NS == "" || e.Surrogate == "" {
			return nil, bad("an incomplete entry")
		}
		v.addEntry(e)
	}
	for s, d := range p.Shifts {
		if !v.used[s] || d == 0 || d < -MaxShiftDays || d > MaxShiftDays {
			return nil, bad("a bad date shift")
		}
		v.shifts[s] = d
	}
	for kind, list := range map[byte][]string{tombOfKey: p.Erased, tombOfPatient: p.Retired} {
		for _, x := range list {
			t, ok := parseTombstone(kind, x)
			if !ok {
				return nil, bad("a bad tombstone")
			}
			v.erased[t] = struct{}{}
		}
	}
	return v, nil
}

// unseal checks and decrypts a carelens-vault/2 file. Errors wrap
// ErrWrongKey or ErrCorrupt.
func unseal(data []byte, key Key) (sealHeader, []byte, error) {
	nl := bytes.IndexByte(data, '\n')
	if nl < 0 || nl > maxHeader {
		return sealHeader{}, nil, fmt.Errorf("no complete header line (truncated, or not a vault file): %w", ErrCorrupt)
	}
	head, body := data[:nl], data[nl+1:]
	h, nonce, ok := parseHeader(head)
	if !ok {
		return h, nil, fmt.Errorf("the header line is damaged: %w", ErrCorrupt)
	}
	if len(body) < nonceSize {
		return h, nil, fmt.Errorf("truncated: %d of %d sealed bytes: %w", len(body), h.Size, ErrCorrupt)
	}
	if !bytes.Equal(body[:nonceSize], nonce) {
		return h, nil, fmt.Errorf("the header does not belong to this sealed payload (a header copied from another vault file, or altered nonce bytes): %w", ErrCorrupt)
	}
	switch {
	case int64(len(body)) < h.Size:
		return h, nil, fmt.Errorf("truncated: %d of %d sealed bytes: %w", len(body), h.Size, ErrCorrupt)
	case int64(len(body)) > h.Size:
		return h, nil, fmt.Errorf("%d unexpected bytes after the sealed payload: %w", int64(len(body))-h.Size, ErrCorrupt)
	}
	aead, err := newAEAD(key)
	if err != nil {
		return h, nil, err
	}
	if h.KeyID != key.ID() {
		// Tell a wrong key from an altered key id: with the right key the
		// payload authenticates under the header as it was written.
		orig := h
		orig.KeyID = key.ID()
		if line, err := json.Marshal(orig); err == nil {
			if plain, err := aead.Open(nil, nonce, body[nonceSize:], line); err == nil {
				clear(plain)
				return h, nil, fmt.Errorf("the key id in the header was altered (the payload authenticates with the key given, %s): %w", key.ID(), ErrCorrupt)
			}
		}
		return h, nil, fmt.Errorf("the vault was sealed with key %s, the key given is %s: %w", h.KeyID, key.ID(), ErrWrongKey)
	}
	plain, err := aead.Open(nil, nonce, body[nonceSize:], head)
	if err != nil {
		return h, nil, fmt.Errorf("authentication failed: the file was modified after it was sealed: %w", ErrCorrupt)
	}
	return h, plain, nil
}

// parseHeader decodes a carelens-vault/2 header line and checks the form of
// each field; the seal checks their values.
func parseHeader(line []byte) (h sealHeader, nonce []byte, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&h); err != nil || dec.More() {
		return h, nil, false
	}
	nonce, err := hex.DecodeString(h.Nonce)
	if err != nil || len(nonce) != nonceSize {
		return h, nil, false
	}
	if _, err := time.Parse(time.RFC3339, h.Created); err != nil {
		return h, nil, false
	}
	ok = h.Format == FormatSealed && len(h.KeyID) == 16 && isHex(h.KeyID) && h.Size >= nonceSize+tagSize
	return h, nonce, ok
}

func newAEAD(key Key) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key.b[:])
	if err != nil {
		return nil, fmt.Errorf("vault: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("vault: %w", err)
	}
	return aead, nil
}

// seal returns the whole carelens-vault/2 file for the vault's state sealed
// with key, under a fresh random nonce. The caller holds v.mu.
func (v *Vault) seal(key Key) ([]byte, error) {
	p := sealedPayload{Secret: hex.EncodeToString(v.secret), Entries: make([]entry, 0, len(v.keys)),
		Shifts: v.shifts, Erased: []string{}, Retired: []string{}}
	for k, s := range v.keys {
		ns, id := splitKey(k)
		p.Entries = append(p.Entries, entry{NS: ns, ID: id, Surrogate: s})
	}
	for t := range v.erased {
		if t.kind == tombOfKey {
			p.Erased = append(p.Erased, t.String())
		} else {
			p.Retired = append(p.Retired, t.String())
		}
	}
	plain, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("vault: encode: %w", err)
	}
	defer clear(plain)
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, nonceSize)
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("vault: random nonce: %w", err)
	}
	created := v.created
	if created.IsZero() { // a plaintext vault sealed for the first time by Rotate
		created = time.Now().UTC().Truncate(time.Second)
	}
	h := sealHeader{Format: FormatSealed, KeyID: key.ID(), Created: created.Format(time.RFC3339),
		Nonce: hex.EncodeToString(nonce), Size: int64(nonceSize + len(plain) + tagSize)}
	head, err := json.Marshal(h)
	if err != nil {
		return nil, fmt.Errorf("vault: encode header: %w", err)
	}
	out := make([]byte, 0, len(head)+1+int(h.Size))
	out = append(append(out, head...), '\n')
	out = append(out, nonce...)
	out = aead.Seal(out, nonce, plain, head)
	if int64(len(out)-len(head)-1) != h.Size {
		return nil, errors.New("vault: internal error: sealed size differs from the header's")
	}
	v.created = created
	return out, nil
}

// Rotate re-seals the vault with newKey and writes it at once (unsaved
// changes included), atomically: until the rename the file on disk is the
// old one, sealed with the old key, and on failure the vault keeps using the
// old key. Secret, surrogates, date shifts and tombstones are unchanged, so
// record keys and tombstones stay valid. On a plaintext vault (openPlain) it
// seals the file for the first time. See docs/vault.md for the procedure:
// stop writers, rotate, switch the configured key, keep the old key until a
// backup sealed with the new one exists.
func (v *Vault) Rotate(newKey Key) error {
	if newKey.isZero() {
		return fmt.Errorf("vault: rotate: no new key given: %w", ErrNoKey)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if newKey == v.key {
		return fmt.Errorf("vault: rotate: the new key is the key the vault is sealed with (%s)", newKey.ID())
	}
	if err := v.writeLocked(newKey); err != nil {
		return fmt.Errorf("vault: rotate to key %s: %w", newKey.ID(), err)
	}
	v.key = newKey
	v.format = FormatSealed
	v.dirty = false
	return nil
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
