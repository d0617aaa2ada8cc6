package auth

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
)

// KeyEntry is one key in the key file: the SHA-256 of the key (64 hex
// digits; never the key itself), its holder's name and its role.
type KeyEntry struct {
	Name   string `json:"name"`
	Role   Role   `json:"role"`
	SHA256 string `json:"sha256"`
}

// KeyFile is the key file's content.
type KeyFile struct {
	Keys []KeyEntry `json:"keys"`
}

// KeyBytes is the number of random bytes in a key.
const KeyBytes = 32

// nameRE is what a key holder's name may look like: it is an audit actor and
// a log value, so it stays short and plain.
var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$`)

// ParseKeyFile decodes and validates a key file. Unknown fields are errors
// (so a misspelt "sha256", or a "key" holding a key, does not pass); every
// problem of every entry is reported at once, each naming the entry.
func ParseKeyFile(data []byte) (KeyFile, error) {
	var f KeyFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return KeyFile{}, fmt.Errorf("not a key file (want {\"keys\": [{\"name\", \"role\", \"sha256\"}, …]}): %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return KeyFile{}, errors.New("not a key file: data after the JSON object")
	}
	if err := f.Validate(); err != nil {
		return KeyFile{}, err
	}
	for i := range f.Keys {
		f.Keys[i].SHA256 = strings.ToLower(f.Keys[i].SHA256)
	}
	return f, nil
}

// Validate reports every problem of f, joined: an empty file, an invalid
// name (or the reserved AnonymousName), an unknown role, a hash that is not
// 64 hex digits, a hash listed twice, one name given two roles. Hashes are
// compared case-insensitively.
func (f KeyFile) Validate() error {
	var errs []error
	if len(f.Keys) == 0 {
		errs = append(errs, errors.New("keys: the file lists no keys (to run in open mode, leave api_keys_file unset)"))
	}
	byHash := map[string]int{}
	roleOf := map[string]int{}
	for i, e := range f.Keys {
		where := fmt.Sprintf("keys[%d]", i)
		if e.Name != "" {
			where += fmt.Sprintf(" (%s)", e.Name)
		}
		fail := func(format string, args ...any) {
			errs = append(errs, fmt.Errorf("%s: %s", where, fmt.Sprintf(format, args...)))
		}
		switch {
		case e.Name == "":
			fail("name is missing")
		case !nameRE.MatchString(e.Name):
			fail("name %q: use 1 to 64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit", e.Name)
		case e.Name == AnonymousName:
			fail("name %q is reserved for open mode", e.Name)
		}
		if !e.Role.Valid() {
			fail("unknown role %q (want %s)", e.Role, roleList())
		}
		h := strings.ToLower(e.SHA256)
		if b, err := hex.DecodeString(h); err != nil || len(b) != sha256.Size {
			fail("sha256 must be the 64 hex digits of the key's SHA-256 (never the key itself)")
		} else if j, dup := byHash[h]; dup {
			fail("sha256 repeats keys[%d] (%s): one key, one entry", j, f.Keys[j].Name)
		} else {
			byHash[h] = i
		}
		if e.Name != "" && e.Role.Valid() {
			if j, seen := roleOf[e.Name]; seen && f.Keys[j].Role != e.Role {
				fail("role %s, but keys[%d] gives %s the role %s: one name, one role", e.Role, j, e.Name, f.Keys[j].Role)
			} else if !seen {
				roleOf[e.Name] = i
			}
		}
	}
	return errors.Join(errs...)
}

// Add appends e to f if the result is still a valid key file; f is
// unchanged on error.
func (f *KeyFile) Add(e KeyEntry) error {
	next := KeyFile{Keys: append(append([]KeyEntry(nil), f.Keys...), e)}
	if err := next.Validate(); err != nil {
		return err
	}
	f.Keys = next.Keys
	return nil
}

// Marshal encodes f as indented JSON ending in a newline, ready to write to
// the key file.
func (f KeyFile) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// HashKey returns the key file form of key: the hex SHA-256 of its text.
func HashKey(key string) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:])
}

// NewKey draws a new key for name with role: KeyBytes random bytes from
// crypto/rand in unpadded base64url (43 characters), and its key file
// entry. Show the key to its holder once; store only the entry.
func NewKey(name string, role Role) (key string, entry KeyEntry, err error) {
	entry = KeyEntry{Name: name, Role: role}
	probe := KeyFile{Keys: []KeyEntry{{Name: name, Role: role, SHA256: strings.Repeat("0", 2*sha256.Size)}}}
	if err := probe.Validate(); err != nil {
		return "", KeyEntry{}, err
	}
	b := make([]byte, KeyBytes)
	if _, err := rand.Read(b); err != nil {
		return "", KeyEntry{}, fmt.Errorf("new key: %w", err)
	}
	key = base64.RawURLEncoding.EncodeToString(b)
	entry.SHA256 = HashKey(key)
	return key, entry, nil
}

// ErrUnauthenticated reports a request without a valid key. Its message says
// nothing about what was wrong (missing header, wrong scheme, unknown key).
var ErrUnauthenticated = errors.New(`authentication required: send a valid API key as "Authorization: Bearer KEY"`)

// Keyring authenticates keys against a key file's hashes. It is immutable
// and safe for concurrent use.
type Keyring struct {
	keys []storedKey
}

type storedKey struct {
	hash      [sha256.Size]byte
	principal Principal
}

// compare is the hash comparison; a variable so tests can check that every
// entry is compared with it.
var compare = subtle.ConstantTimeCompare

// NewKeyring returns the keyring of a valid key file.
func NewKeyring(f KeyFile) (*Keyring, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	k := &Keyring{keys: make([]storedKey, len(f.Keys))}
	for i, e := range f.Keys {
		b, _ := hex.DecodeString(strings.ToLower(e.SHA256)) // checked by Validate
		copy(k.keys[i].hash[:], b)
		k.keys[i].principal = Principal{Name: e.Name, Role: e.Role}
	}
	return k, nil
}

// LoadKeyring reads, validates and loads the key file at path.
func LoadKeyring(path string) (*Keyring, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("api keys file: %w", err)
	}
	f, err := ParseKeyFile(b)
	if err != nil {
		return nil, fmt.Errorf("api keys file %s:\n%w", path, err)
	}
	return NewKeyring(f)
}

// Len returns the number of keys.
func (k *Keyring) Len() int { return len(k.keys) }

// Authenticate returns the principal of key, or ErrUnauthenticated. The
// key's hash is compared with every stored hash in constant time, without
// stopping at a match, so timing tells nothing about which entry matched.
func (k *Keyring) Authenticate(key string) (Principal, error) {
	if key == "" {
		return Principal{}, ErrUnauthenticated
	}
	h := sha256.Sum256([]byte(key))
	match := -1
	for i := range k.keys {
		match = subtle.ConstantTimeSelect(compare(h[:], k.keys[i].hash[:]), i, match)
	}
	if match < 0 {
		return Principal{}, ErrUnauthenticated
	}
	return k.keys[match].principal, nil
}

// AuthenticateRequest authenticates the request's one Authorization header,
// which must be "Bearer <key>" (the scheme in any case). Anything else is
// ErrUnauthenticated.
func (k *Keyring) AuthenticateRequest(r *http.Request) (Principal, error) {
	vals := r.Header.Values("Authorization")
	if len(vals) != 1 {
		return Principal{}, ErrUnauthenticated
	}
	scheme, token, ok := strings.Cut(strings.TrimSpace(vals[0]), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" || strings.ContainsAny(token, " \t") {
		return Principal{}, ErrUnauthenticated
	}
	return k.Authenticate(token)
}
