package deid

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func TestZIP3(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"02139", "021"}, {"02139-4307", "021"}, {"03601", "000"}, {"89301", "000"},
		{"10201", "000"}, {"20301", "000"}, {"55601", "000"}, {"79001", "000"},
		{"12345", "123"}, {"", ""}, {"1234", ""}, {"ABCDE", ""}, {"021394307", ""},
	} {
		if got := ZIP3(c.in); got != c.want {
			t.Errorf("ZIP3(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestAge(t *testing.T) {
	d := func(s string) time.Time { x, _ := time.Parse("2006-01-02", s); return x }
	if a := AgeAt(d("1935-06-15"), d("2025-06-14")); a != 89 {
		t.Errorf("age = %d, want 89", a)
	}
	if Over89(d("1935-06-15"), d("2025-06-14")) {
		t.Error("89 is not over 89")
	}
	if !Over89(d("1935-06-15"), d("2025-06-15")) {
		t.Error("90th birthday is over 89")
	}
}

func TestParseProfile(t *testing.T) {
	for _, want := range []Profile{ProfileLimited, ProfileShifted, ProfileSafeHarbor} {
		if p, err := ParseProfile(string(want)); err != nil || p != want {
			t.Fatalf("%s: %v %v", want, p, err)
		}
	}
	for _, s := range []string{"none", "", "Limited", "safe-harbor"} {
		if _, err := ParseProfile(s); err == nil {
			t.Errorf("ParseProfile(%q) accepted", s)
		}
	}
}

func TestVaultStableAcrossSaves(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "vault")
	v, err := openPlain(path)
	if err != nil {
		t.Fatal(err)
	}
	p1, _ := v.Surrogate(NSPatient, "pat-1")
	if err := v.Bind(NSMRN, "MRN1", p1); err != nil {
		t.Fatal(err)
	}
	again, _ := v.Surrogate(NSPatient, "pat-1")
	if again != p1 {
		t.Fatalf("Surrogate not stable: %s then %s", p1, again)
	}
	p2, _ := v.Surrogate(NSPatient, "pat-2")
	if p2 == p1 || len(p1) != 16 {
		t.Fatalf("surrogates %q %q", p1, p2)
	}
	if err := v.Bind(NSMRN, "MRN1", p2); !errors.Is(err, ErrConflict) {
		t.Fatalf("rebinding MRN1 to another patient: %v, want ErrConflict", err)
	}
	rk := v.RecordKey("Encounter", "e1")
	if err := v.Save(); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("vault file mode %v, %v; want 0600", st.Mode().Perm(), err)
	}

	w, err := openPlain(path)
	if err != nil {
		t.Fatal(err)
	}
	if s, ok := w.Lookup(NSMRN, "MRN1"); !ok || s != p1 {
		t.Fatalf("after reload MRN1 -> %q %v, want %q", s, ok, p1)
	}
	if s, _ := w.Surrogate(NSPatient, "pat-2"); s != p2 {
		t.Fatalf("after reload pat-2 -> %q, want %q", s, p2)
	}
	if w.RecordKey("Encounter", "e1") != rk {
		t.Fatal("record key changed across reload")
	}
	if w.RecordKey("Encounter", "e2") == rk || w.RecordKey("Appointment", "e1") == rk {
		t.Fatal("record keys collide across ids or kinds")
	}
	if w.Len() != 3 {
		t.Fatalf("Len = %d, want 3", w.Len())
	}
}

func TestVaultRejectsCorruptFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vault")
	os.WriteFile(path, []byte("{\"format\":\"carelens-vault/1\",\"secret\":\"00\"}\n"), 0o600)
	if _, err := openPlain(path); err == nil {
		t.Fatal("short secret accepted")
	}
	os.WriteFile(path, []byte("hello\n"), 0o600)
	if _, err := openPlain(path); err == nil {
		t.Fatal("non-vault file accepted")
	}
}

func TestBindSharedMakesAmbiguous(t *testing.T) {
	v, _ := openPlain(filepath.Join(t.TempDir(), "vault"))
	a, _ := v.Surrogate(NSPatient, "a")
	b, _ := v.Surrogate(NSPatient, "b")
	for i := 0; i < 2; i++ {
		if amb, err := v.BindShared(NSMRNValue, "12345", a); amb || err != nil {
			t.Fatalf("binding %d reported ambiguous=%v, %v", i+1, amb, err)
		}
	}
	if s, ok := v.Lookup(NSMRNValue, "12345"); !ok || s != a {
		t.Fatalf("lookup = %q %v", s, ok)
	}
	if amb, err := v.BindShared(NSMRNValue, "12345", b); !amb || err != nil {
		t.Fatalf("second person: ambiguous=%v, %v; want true", amb, err)
	}
	if _, ok := v.Lookup(NSMRNValue, "12345"); ok {
		t.Fatal("ambiguous key still resolves")
	}
	if amb, err := v.BindShared(NSMRNValue, "12345", a); !amb || err != nil {
		t.Fatalf("ambiguous key resolved again: %v, %v", amb, err)
	}
	v.Save()
	w, _ := openPlain(v.path)
	if _, ok := w.Lookup(NSMRNValue, "12345"); ok {
		t.Fatal("ambiguity lost across save")
	}
}

// RecordKey is HMAC-SHA256(secret, kind NUL id) cut to 128 bits, hex: keys
// stored by earlier loads must stay valid, also under concurrent use.
func TestRecordKeyDefinition(t *testing.T) {
	v, err := openPlain(filepath.Join(t.TempDir(), "vault"))
	if err != nil {
		t.Fatal(err)
	}
	want := func(kind, id string) string {
		m := hmac.New(sha256.New, v.secret)
		m.Write([]byte(kind + "\x00" + id))
		return hex.EncodeToString(m.Sum(nil)[:16])
	}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				id := fmt.Sprintf("id-%d-%d", g, i)
				if got := v.RecordKey("crm:message", id); got != want("crm:message", id) {
					t.Errorf("RecordKey(%s) = %s, want %s", id, got, want("crm:message", id))
					return
				}
			}
		}()
	}
	wg.Wait()
}
