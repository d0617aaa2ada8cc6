package auth

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// Known keys and their SHA-256 (sha256sum of the text without a newline).
const (
	aliceKey  = "alice-test-key"
	aliceHash = "091d54677e472013d98d39c7312be93228f8cf198a5dc893cdb44ff6cb48a599"
)

func TestHashKey(t *testing.T) {
	// echo -n abc | sha256sum
	if got, want := HashKey("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"; got != want {
		t.Errorf("HashKey(abc) = %s, want %s", got, want)
	}
}

func TestParseKeyFile(t *testing.T) {
	h1, h2 := HashKey("k1"), HashKey("k2")
	good := `{"keys": [
		{"name": "alice", "role": "analyst", "sha256": "` + strings.ToUpper(h1) + `"},
		{"name": "ops", "role": "admin", "sha256": "` + h2 + `"}]}`
	f, err := ParseKeyFile([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	want := KeyFile{Keys: []KeyEntry{{Name: "alice", Role: RoleAnalyst, SHA256: h1}, {Name: "ops", Role: RoleAdmin, SHA256: h2}}}
	if !reflect.DeepEqual(f, want) {
		t.Errorf("parsed %+v, want %+v (hashes lower-cased)", f, want)
	}

	tests := []struct {
		name string
		file string
		want []string // every fragment must appear in the error
	}{
		{"bad JSON", `{"keys": [`, []string{"not a key file"}},
		{"trailing data", `{"keys": []} {}`, []string{"data after the JSON object"}},
		{"unknown field (a raw key)", `{"keys": [{"name": "a", "role": "crm", "key": "secret"}]}`, []string{`unknown field "key"`}},
		{"no keys", `{}`, []string{"lists no keys"}},
		{
			name: "every problem at once",
			file: `{"keys": [
				{"name": "alice", "role": "analyst", "sha256": "` + h1 + `"},
				{"name": "bob", "role": "superuser", "sha256": "` + h2 + `"},
				{"name": "carol", "role": "crm", "sha256": "` + h1 + `"},
				{"name": "alice", "role": "admin", "sha256": "` + HashKey("k3") + `"},
				{"name": "dave", "role": "crm", "sha256": "dave-raw-key"},
				{"name": "anonymous", "role": "analyst", "sha256": "` + HashKey("k4") + `"},
				{"name": "", "role": "crm", "sha256": "` + HashKey("k5") + `"},
				{"name": "eve smith", "role": "crm", "sha256": "` + HashKey("k6") + `"}]}`,
			want: []string{
				`keys[1] (bob): unknown role "superuser" (want admin, analyst, crm)`,
				`keys[2] (carol): sha256 repeats keys[0] (alice)`,
				`keys[3] (alice): role admin, but keys[0] gives alice the role analyst`,
				`keys[4] (dave): sha256 must be the 64 hex digits`,
				`keys[5] (anonymous): name "anonymous" is reserved`,
				`keys[6]: name is missing`,
				`keys[7] (eve smith): name "eve smith": use 1 to 64`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseKeyFile([]byte(tt.file))
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			if n := strings.Count(err.Error(), "\n") + 1; n != len(tt.want) {
				t.Errorf("%d problems reported, want %d:\n%v", n, len(tt.want), err)
			}
		})
	}
}

func TestSameNameSameRoleAllowed(t *testing.T) {
	// Key rotation: two keys of one holder share the name (and history).
	f := KeyFile{Keys: []KeyEntry{{"alice", RoleAnalyst, HashKey("old")}, {"alice", RoleAnalyst, HashKey("new")}}}
	if err := f.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestNewKey(t *testing.T) {
	key, e, err := NewKey("crm-sync", RoleCRM)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.RawURLEncoding.DecodeString(key)
	if err != nil || len(raw) != KeyBytes || len(key) != 43 {
		t.Fatalf("key %q: %d bytes, %v", key, len(raw), err)
	}
	if e.Name != "crm-sync" || e.Role != RoleCRM || e.SHA256 != HashKey(key) {
		t.Errorf("entry %+v", e)
	}
	key2, e2, _ := NewKey("crm-sync", RoleCRM)
	if key2 == key || e2.SHA256 == e.SHA256 {
		t.Error("two keys are equal")
	}
	var f KeyFile
	if err := f.Add(e); err != nil {
		t.Fatal(err)
	}
	if err := f.Add(e); err == nil || len(f.Keys) != 1 {
		t.Errorf("Add of a duplicate = %v, %d keys", err, len(f.Keys))
	}
	b, err := f.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseKeyFile(b)
	if err != nil || !reflect.DeepEqual(back, f) || strings.Contains(string(b), key) {
		t.Errorf("round trip %+v, %v:\n%s", back, err, b)
	}
	if _, _, err := NewKey("x", "root"); err == nil {
		t.Error("NewKey accepted an unknown role")
	}
	if _, _, err := NewKey("", RoleAdmin); err == nil {
		t.Error("NewKey accepted an empty name")
	}
}

func testKeyring(t *testing.T) *Keyring {
	t.Helper()
	k, err := NewKeyring(KeyFile{Keys: []KeyEntry{
		{"ops", RoleAdmin, HashKey("ops-key")},
		{"alice", RoleAnalyst, aliceHash},
		{"crm-sync", RoleCRM, HashKey("crm-key")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestAliceHashFixture(t *testing.T) {
	if HashKey(aliceKey) != aliceHash {
		t.Fatalf("fixture hash of %q is %s", aliceKey, HashKey(aliceKey))
	}
}

func TestAuthenticateRequest(t *testing.T) {
	k := testKeyring(t)
	tests := []struct {
		name   string
		header []string
		want   Principal
		ok     bool
	}{
		{"valid", []string{"Bearer " + aliceKey}, Principal{"alice", RoleAnalyst}, true},
		{"scheme in any case, extra spaces", []string{"  bearer   ops-key "}, Principal{"ops", RoleAdmin}, true},
		{"last entry", []string{"Bearer crm-key"}, Principal{"crm-sync", RoleCRM}, true},
		{"missing", nil, Principal{}, false},
		{"unknown key", []string{"Bearer not-a-key"}, Principal{}, false},
		{"a stored hash is not a key", []string{"Bearer " + aliceHash}, Principal{}, false},
		{"basic scheme", []string{"Basic " + aliceKey}, Principal{}, false},
		{"no key", []string{"Bearer "}, Principal{}, false},
		{"two keys in one header", []string{"Bearer " + aliceKey + " ops-key"}, Principal{}, false},
		{"two headers", []string{"Bearer " + aliceKey, "Bearer " + aliceKey}, Principal{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/api/v1/metrics", nil)
			for _, h := range tt.header {
				r.Header.Add("Authorization", h)
			}
			p, err := k.AuthenticateRequest(r)
			if tt.ok {
				if err != nil || p != tt.want {
					t.Errorf("= %+v, %v; want %+v", p, err, tt.want)
				}
				return
			}
			if !errors.Is(err, ErrUnauthenticated) || p != (Principal{}) {
				t.Errorf("= %+v, %v; want ErrUnauthenticated", p, err)
			}
			if err.Error() != ErrUnauthenticated.Error() {
				t.Errorf("error %q says more than the fixed message", err)
			}
		})
	}
}

// TestConstantTimeCompare checks that Authenticate compares the presented
// hash with every stored hash through subtle.ConstantTimeCompare, also when
// the first entry matches (no early exit, no map lookup by hash).
func TestConstantTimeCompare(t *testing.T) {
	if reflect.ValueOf(compare).Pointer() != reflect.ValueOf(subtle.ConstantTimeCompare).Pointer() {
		t.Fatal("compare is not subtle.ConstantTimeCompare")
	}
	k := testKeyring(t)
	calls := 0
	compare = func(a, b []byte) int { calls++; return subtle.ConstantTimeCompare(a, b) }
	t.Cleanup(func() { compare = subtle.ConstantTimeCompare })
	for _, key := range []string{"ops-key", "crm-key", "nope"} {
		calls = 0
		k.Authenticate(key)
		if calls != k.Len() {
			t.Errorf("Authenticate(%s) made %d comparisons, want %d", key, calls, k.Len())
		}
	}
}

func TestLoadKeyring(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keys.json")
	os.WriteFile(path, []byte(`{"keys": [{"name": "alice", "role": "analyst", "sha256": "`+aliceHash+`"}]}`), 0o600)
	k, err := LoadKeyring(path)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := k.Authenticate(aliceKey); err != nil || p.Name != "alice" {
		t.Errorf("Authenticate = %+v, %v", p, err)
	}
	os.WriteFile(path, []byte(`{"keys": [{"name": "alice", "role": "owner", "sha256": "`+aliceHash+`"}]}`), 0o600)
	if _, err := LoadKeyring(path); err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), `unknown role "owner"`) {
		t.Errorf("bad file: %v", err)
	}
	if _, err := LoadKeyring(filepath.Join(dir, "absent.json")); err == nil {
		t.Error("absent file accepted")
	}
}

func TestRoles(t *testing.T) {
	for _, tt := range []struct {
		role  Role
		perm  Permission
		grant bool
	}{
		{RoleAdmin, ReadAggregates, true}, {RoleAdmin, BypassQueryGuard, true},
		{RoleAnalyst, ReadAggregates, true}, {RoleAnalyst, BypassQueryGuard, false},
		{RoleCRM, ReadAggregates, true}, {RoleCRM, BypassQueryGuard, false},
		{Role("root"), ReadAggregates, false},
	} {
		if got := tt.role.Can(tt.perm); got != tt.grant {
			t.Errorf("%s.Can(%s) = %v", tt.role, tt.perm, got)
		}
	}
	if Anonymous.Role != RoleAnalyst || Anonymous.Can(BypassQueryGuard) {
		t.Errorf("Anonymous = %+v", Anonymous)
	}
	if _, err := ParseRole("admin"); err != nil {
		t.Error(err)
	}
	if _, err := ParseRole("Admin"); err == nil {
		t.Error("ParseRole is case-insensitive")
	}
	ctx := NewContext(context.Background(), Principal{"alice", RoleAnalyst})
	if p, ok := FromContext(ctx); !ok || p.Name != "alice" {
		t.Errorf("FromContext = %+v, %v", p, ok)
	}
	if _, ok := FromContext(context.Background()); ok {
		t.Error("FromContext found a principal in an empty context")
	}
}
