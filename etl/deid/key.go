package deid

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// KeyEnv is the environment variable that holds the vault key: 64 hex
// characters, or the base64 (standard or URL alphabet) of 32 bytes.
const KeyEnv = "CARELENS_VAULT_KEY"

// KeySize is the size of a vault key in bytes (AES-256).
const KeySize = 32

// ErrNoKey reports that no vault key was supplied, neither in KeyEnv nor in
// a key file.
var ErrNoKey = errors.New("no vault key")

// Key is the AES-256 key that seals a vault file at rest. The zero Key is
// not a key. Key material is printed only by String, for writing a key
// file: fmt verbs (%v, %s, %x, %#v …) and log/slog print the key id instead,
// so a key handed to a logger or an error by mistake does not leak.
type Key struct {
	b [KeySize]byte
}

// NewKey returns a fresh random key.
func NewKey() (Key, error) {
	var k Key
	if _, err := rand.Read(k.b[:]); err != nil {
		return Key{}, fmt.Errorf("vault key: random: %w", err)
	}
	return k, nil
}

// keyForm describes the accepted encodings in errors.
const keyForm = "64 hex characters or the base64 encoding of 32 bytes"

// ParseKey decodes a key written as 64 hex characters or as the standard or
// URL base64 encoding (padded or not) of 32 bytes. Surrounding white space
// is ignored. Errors name the expected form and never echo the input.
func ParseKey(s string) (Key, error) {
	s = strings.TrimSpace(s)
	var k Key
	switch len(s) {
	case 0:
		return Key{}, fmt.Errorf("vault key is empty: want %s", keyForm)
	case 2 * KeySize:
		n, err := hex.Decode(k.b[:], []byte(s))
		if err != nil || n != KeySize {
			// The decoder's error quotes the offending character: not shown.
			return Key{}, fmt.Errorf("vault key has 64 characters but is not hex: want %s", keyForm)
		}
	case 43, 44: // base64 of 32 bytes, unpadded or padded
		ok := false
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
			b, err := enc.Strict().DecodeString(s)
			if err == nil && len(b) == KeySize {
				copy(k.b[:], b)
				clear(b)
				ok = true
				break
			}
		}
		if !ok {
			return Key{}, fmt.Errorf("vault key has %d characters but is not base64 of 32 bytes: want %s", len(s), keyForm)
		}
	default:
		return Key{}, fmt.Errorf("vault key has %d characters: want %s", len(s), keyForm)
	}
	if k.isZero() {
		return Key{}, errors.New("vault key is all zeros: generate a random key")
	}
	return k, nil
}

func (k Key) isZero() bool { return k == Key{} }

// String returns the key as 64 hex characters, the form WriteKeyFile writes
// and ParseKey reads. It is key material: do not log it.
func (k Key) String() string { return hex.EncodeToString(k.b[:]) }

// ID returns a fingerprint of the key, 16 hex characters: the first 8 bytes
// of SHA-256 over a domain-separated input. It reveals nothing usable about
// the key, is stored in the vault header, and is safe to print and log.
func (k Key) ID() string {
	h := sha256.New()
	h.Write([]byte("carelens-vault key id\x00"))
	h.Write(k.b[:])
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// Format prints the key id, never the key, whatever the verb: use String to
// write a key file.
func (k Key) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, "vault-key:%s", k.ID())
}

// LogValue logs the key id, never the key.
func (k Key) LogValue() slog.Value { return slog.StringValue(k.ID()) }

// maxKeyFile bounds what LoadKey reads from a key file.
const maxKeyFile = 4096

// LoadKey returns the vault key from the environment env (KEY=value entries,
// as os.Environ returns; the last CARELENS_VAULT_KEY wins and an empty value
// counts as unset), else from keyFile. A key file must be a regular file not
// readable or writable by group or others (like an ssh private key): LoadKey
// refuses one that is and says how to fix it. With neither, the error wraps
// ErrNoKey and says how to supply a key. A malformed key is an error, never
// a fall-through to the next source.
func LoadKey(env []string, keyFile string) (Key, error) {
	val := ""
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, KeyEnv+"="); ok {
			val = v
		}
	}
	if val != "" {
		k, err := ParseKey(val)
		if err != nil {
			return Key{}, fmt.Errorf("%s: %w", KeyEnv, err)
		}
		return k, nil
	}
	how := fmt.Sprintf("set %s to %s, or create a key file (mode 0600) holding one", KeyEnv, keyForm)
	if keyFile == "" {
		return Key{}, fmt.Errorf("%w: %s", ErrNoKey, how)
	}
	f, err := os.Open(keyFile)
	if errors.Is(err, fs.ErrNotExist) {
		return Key{}, fmt.Errorf("%w: %s is not set and the key file %s does not exist; %s", ErrNoKey, KeyEnv, keyFile, how)
	}
	if err != nil {
		return Key{}, fmt.Errorf("vault key file: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Key{}, fmt.Errorf("vault key file: %w", err)
	}
	if !st.Mode().IsRegular() {
		return Key{}, fmt.Errorf("vault key file %s is not a regular file", keyFile)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
		return Key{}, fmt.Errorf("vault key file %s has mode %04o: a key file must not be readable or writable by group or others; run chmod 600 %s (and consider rotating the key if others may have read it)",
			keyFile, perm, keyFile)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return Key{}, fmt.Errorf("vault key file: %w", err)
	}
	defer clear(b)
	if len(b) > maxKeyFile {
		return Key{}, fmt.Errorf("vault key file %s is larger than %d bytes: want %s", keyFile, maxKeyFile, keyForm)
	}
	k, err := ParseKey(string(b))
	if err != nil {
		return Key{}, fmt.Errorf("vault key file %s: %w", keyFile, err)
	}
	return k, nil
}

// WriteKeyFile writes k to a new file at path (its String form and a
// newline) with mode 0600, creating the directory (0700) if needed. It
// refuses to replace an existing file, since a vault sealed with the key it
// holds would become unreadable; the error then wraps fs.ErrExist.
func WriteKeyFile(path string, k Key) error {
	if k.isZero() {
		return errors.New("vault key file: refusing to write the zero key")
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("vault key file: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("vault key file %s already exists; refusing to overwrite a key (vaults sealed with it would become unreadable): %w", path, fs.ErrExist)
	}
	if err != nil {
		return fmt.Errorf("vault key file: %w", err)
	}
	fail := func(err error) error {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("vault key file: %w", err)
	}
	if err := f.Chmod(0o600); err != nil { // exact mode, whatever the umask
		return fail(err)
	}
	if _, err := f.WriteString(k.String() + "\n"); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return fmt.Errorf("vault key file: %w", err)
	}
	return syncDir(dir)
}
