package deid

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func newKeyT(t testing.TB) Key {
	t.Helper()
	k, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func openT(t testing.TB, path string, k Key) *Vault {
	t.Helper()
	v, err := OpenEncrypted(path, k)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func saveT(t testing.TB, v *Vault) {
	t.Helper()
	if err := v.Save(); err != nil {
		t.Fatal(err)
	}
}

// encodingsOf returns the ways a value could show up in a file: as is, hex
// (both cases), and base64 in both alphabets at each of the three byte
// alignments it could have inside a longer encoded text.
func encodingsOf(b []byte) map[string][]byte {
	out := map[string][]byte{
		"plain": b,
		"hex":   []byte(hex.EncodeToString(b)),
		"HEX":   []byte(strings.ToUpper(hex.EncodeToString(b))),
	}
	for name, enc := range map[string]*base64.Encoding{"base64": base64.StdEncoding, "base64url": base64.URLEncoding} {
		for off := 0; off < 3; off++ {
			e := enc.EncodeToString(append(make([]byte, off), b...))
			// Keep the characters that depend on b alone: drop the first
			// group when b does not start it, and the last group.
			lo, hi := 0, len(e)-4
			if off > 0 {
				lo = 4
			}
			if hi-lo >= 8 {
				out[fmt.Sprintf("%s@%d", name, off)] = []byte(e[lo:hi])
			}
		}
	}
	return out
}

// assertAbsent fails when data holds any encoding of any of the values.
func assertAbsent(t *testing.T, where string, data []byte, values map[string][]byte) {
	t.Helper()
	for what, val := range values {
		for enc, b := range encodingsOf(val) {
			if bytes.Contains(data, b) {
				t.Errorf("%s holds %s (%s)", where, what, enc)
			}
		}
	}
}

// fillVault gives v two linked patients, an ambiguous MRN value, date shifts
// and one erased patient, and returns what must survive a reload.
type filled struct {
	p1, p2, gone string
	shift1       int
	recordKey    string
}

func fillVault(t *testing.T, v *Vault) filled {
	t.Helper()
	var f filled
	var err error
	if f.p1, err = v.Surrogate(NSPatient, "patient-alpha-0001"); err != nil {
		t.Fatal(err)
	}
	f.p2, _ = v.Surrogate(NSPatient, "patient-bravo-0002")
	f.gone, _ = v.Surrogate(NSPatient, "patient-erased-0003")
	for _, b := range []struct{ ns, id, s string }{
		{NSMRN, "urn:oid:1.2.3|MRN-ALPHA-77", f.p1}, {NSMRNValue, "MRN-ALPHA-77", f.p1},
		{NSContact, "contact-alpha-9001", f.p1}, {NSContact, "contact-erased-9003", f.gone},
		{NSMRNValue, "MRN-ERASED-55", f.gone},
	} {
		if err := v.Bind(b.ns, b.id, b.s); err != nil {
			t.Fatal(err)
		}
	}
	if amb, err := v.BindShared(NSMRNValue, "MRN-SHARED-11", f.p1); amb || err != nil {
		t.Fatal(amb, err)
	}
	if amb, err := v.BindShared(NSMRNValue, "MRN-SHARED-11", f.p2); !amb || err != nil {
		t.Fatal(amb, err)
	}
	if f.shift1, err = v.ShiftDays(f.p1); err != nil {
		t.Fatal(err)
	}
	if _, err := v.ShiftDays(f.gone); err != nil {
		t.Fatal(err)
	}
	if e, err := v.Erase(f.gone); err != nil || e.Total() != 3 {
		t.Fatalf("erase: %+v, %v", e, err)
	}
	f.recordKey = v.RecordKey("Encounter", "encounter-0001")
	return f
}

// checkFilled checks that w holds what fillVault put in.
func checkFilled(t *testing.T, w *Vault, f filled, keys int) {
	t.Helper()
	for _, c := range []struct{ ns, id, want string }{
		{NSPatient, "patient-alpha-0001", f.p1}, {NSPatient, "patient-bravo-0002", f.p2},
		{NSMRN, "urn:oid:1.2.3|MRN-ALPHA-77", f.p1}, {NSMRNValue, "MRN-ALPHA-77", f.p1},
		{NSContact, "contact-alpha-9001", f.p1},
	} {
		if s, ok := w.Lookup(c.ns, c.id); !ok || s != c.want {
			t.Errorf("Lookup(%s) = %q %v, want %q", c.ns, s, ok, c.want)
		}
	}
	if _, ok := w.Lookup(NSMRNValue, "MRN-SHARED-11"); ok {
		t.Error("ambiguous key resolves")
	}
	if w.Len() != keys {
		t.Errorf("Len = %d, want %d", w.Len(), keys)
	}
	if d, err := w.ShiftDays(f.p1); err != nil || d != f.shift1 {
		t.Errorf("shift = %d, %v; want %d", d, err, f.shift1)
	}
	if w.RecordKey("Encounter", "encounter-0001") != f.recordKey {
		t.Error("record key changed")
	}
	for _, k := range [][2]string{{NSPatient, "patient-erased-0003"}, {NSContact, "contact-erased-9003"}, {NSMRNValue, "MRN-ERASED-55"}} {
		if !w.IsErased(k[0], k[1]) {
			t.Errorf("%s erasure lost", k[0])
		}
		if _, err := w.Surrogate(k[0], k[1]); !errors.Is(err, ErrErased) {
			t.Errorf("Surrogate(%s) of an erased key: %v", k[0], err)
		}
	}
	if _, err := w.ShiftDays(f.gone); !errors.Is(err, ErrErased) {
		t.Errorf("shift of the erased patient: %v", err)
	}
	if i := w.Info(); i.Tombstones != 3 || i.Shifts != 1 || i.Keys != keys {
		t.Errorf("Info = %+v", i)
	}
}

func TestEncryptedRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "vault")
	k := newKeyT(t)
	v := openT(t, path, k)
	f := fillVault(t, v)
	saveT(t, v)
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("vault file mode %v, %v; want 0600", st.Mode().Perm(), err)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".vault-*")); len(leftovers) > 0 {
		t.Fatalf("temporary files left: %v", leftovers)
	}
	data, _ := os.ReadFile(path)
	if !bytes.HasPrefix(data, []byte(`{"format":"carelens-vault/2","key_id":"`+k.ID()+`"`)) {
		t.Fatalf("file does not start with the v2 header: %.80s", data)
	}

	w := openT(t, path, k)
	if !bytes.Equal(w.secret, v.secret) {
		t.Fatal("secret changed")
	}
	checkFilled(t, w, f, 6)
	if i := w.Info(); i.Format != FormatSealed || i.KeyID != k.ID() || i.Created.IsZero() || i.Unsaved || i.Migrating() {
		t.Fatalf("Info = %+v", i)
	}
	created := w.Info().Created

	// A save without changes writes nothing; one with changes keeps the
	// creation time and draws a new nonce.
	saveT(t, w)
	if again, _ := os.ReadFile(path); !bytes.Equal(again, data) {
		t.Fatal("save without changes rewrote the file")
	}
	w.Surrogate(NSPatient, "patient-charlie-0004")
	saveT(t, w)
	x := openT(t, path, k)
	if _, ok := x.Lookup(NSPatient, "patient-charlie-0004"); !ok || !x.Info().Created.Equal(created) {
		t.Fatalf("second save: lookup %v, created %v want %v", ok, x.Info().Created, created)
	}
	h1, _, _ := bytes.Cut(data, []byte("\n"))
	d2, _ := os.ReadFile(path)
	h2, _, _ := bytes.Cut(d2, []byte("\n"))
	if bytes.Equal(h1, h2) {
		t.Fatal("the header (and nonce) did not change between saves")
	}
	// openPlain does not read an encrypted vault, and says so.
	if _, err := openPlain(path); err == nil || !strings.Contains(err.Error(), "encrypted") {
		t.Fatalf("openPlain on a sealed file: %v", err)
	}
}

// The sealed file holds none of the source ids, surrogates, the secret or
// the date shifts' structure, in any encoding.
func TestEncryptedFileRevealsNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vault")
	k := newKeyT(t)
	v := openT(t, path, k)
	f := fillVault(t, v)
	secrets := map[string][]byte{"secret": v.secret, "key": k.b[:], "tombstone key": v.tombKey}
	for i := 0; i < 50; i++ {
		id := fmt.Sprintf("PT-%06d-SMITH", i)
		s, err := v.Surrogate(NSPatient, id)
		if err != nil {
			t.Fatal(err)
		}
		v.Bind(NSContact, fmt.Sprintf("crm-contact-%05d", i), s)
		v.ShiftDays(s)
		secrets["id "+id] = []byte(id)
		secrets["contact "+id] = []byte(fmt.Sprintf("crm-contact-%05d", i))
		secrets["surrogate of "+id] = []byte(s)
		sb, _ := hex.DecodeString(s)
		secrets["surrogate bytes of "+id] = sb
	}
	for _, s := range []string{f.p1, f.p2, f.gone} {
		secrets["surrogate "+s[:2]] = []byte(s)
	}
	for _, id := range []string{"patient-alpha-0001", "urn:oid:1.2.3|MRN-ALPHA-77", "MRN-SHARED-11", "contact-erased-9003", "patient-erased-0003"} {
		secrets[id] = []byte(id)
	}
	// Words of the inner encoding: a payload in clear would hold them.
	for _, w := range []string{NSPatient, NSContact, NSMRNValue, `"entries"`, `"secret"`, `"shifts"`} {
		secrets[w] = []byte(w)
	}
	saveT(t, v)
	data, _ := os.ReadFile(path)
	assertAbsent(t, "vault file", data, secrets)

	// The check itself finds what is there.
	probe := append(bytes.Clone(data), base64.StdEncoding.EncodeToString([]byte("x"+"PT-000007-SMITH"))...)
	found := 0
	for _, b := range encodingsOf([]byte("PT-000007-SMITH")) {
		if bytes.Contains(probe, b) {
			found++
		}
	}
	if found == 0 {
		t.Fatal("encodingsOf misses a base64 value at offset 1")
	}
}

func TestSealedFileErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "vault")
	k := newKeyT(t)
	v := openT(t, path, k)
	fillVault(t, v)
	saveT(t, v)
	good, _ := os.ReadFile(path)
	nl := bytes.IndexByte(good, '\n')
	bodyAt := nl + 1
	tagAt := len(good) - tagSize

	// Another vault sealed with the same key, and one with another key.
	other := filepath.Join(dir, "other")
	ov := openT(t, other, k)
	ov.Surrogate(NSPatient, "someone-else")
	saveT(t, ov)
	otherData, _ := os.ReadFile(other)
	otherKey := newKeyT(t)
	third := filepath.Join(dir, "third")
	tv := openT(t, third, otherKey)
	saveT(t, tv)
	thirdData, _ := os.ReadFile(third)

	open := func(data []byte, key Key) error {
		p := filepath.Join(dir, "probe")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := OpenEncrypted(p, key)
		return err
	}
	noLeak := func(what string, err error) {
		for _, s := range []string{"patient-alpha", "MRN-", "contact-", k.String(), otherKey.String(), hex.EncodeToString(v.secret)} {
			if strings.Contains(err.Error(), s) {
				t.Errorf("%s: error leaks %q: %v", what, s, err)
			}
		}
	}
	flip := func(i int) []byte {
		d := bytes.Clone(good)
		d[i] ^= 0x01
		return d
	}

	// Wrong key: names both key ids.
	wrong := newKeyT(t)
	err := open(good, wrong)
	if !errors.Is(err, ErrWrongKey) || errors.Is(err, ErrCorrupt) ||
		!strings.Contains(err.Error(), "the vault was sealed with key "+k.ID()+", the key given is "+wrong.ID()) {
		t.Fatalf("wrong key: %v", err)
	}
	noLeak("wrong key", err)

	// Each category, with the words its message must carry; categories
	// must not share their words.
	cats := map[string]string{
		"header":    "header line is damaged",
		"key id":    "key id in the header was altered",
		"nonce":     "does not belong to this sealed payload",
		"sealed":    "authentication failed",
		"truncated": "truncated",
		"extended":  "unexpected bytes after the sealed payload",
		"swapped":   "does not belong to this sealed payload",
	}
	expect := func(cat, what string, err error) {
		t.Helper()
		if !errors.Is(err, ErrCorrupt) || errors.Is(err, ErrWrongKey) || !strings.Contains(err.Error(), cats[cat]) {
			t.Errorf("%s: %v; want ErrCorrupt saying %q", what, err, cats[cat])
			return
		}
		noLeak(what, err)
	}

	// Every header byte: a damaged header, or an altered key id, never a
	// wrong key and never an open.
	keyIDAt := bytes.Index(good, []byte(k.ID()))
	counts := map[string]int{}
	for i := 0; i < nl; i++ {
		err := open(flip(i), k)
		if err == nil {
			t.Fatalf("header byte %d flipped: opened", i)
		}
		cat := "header"
		switch {
		case i >= keyIDAt && i < keyIDAt+16 && isHex(string(flip(i)[keyIDAt:keyIDAt+16])):
			cat = "key id"
		case !errors.Is(err, ErrCorrupt):
			t.Errorf("header byte %d (%q) flipped: %v", i, good[i], err)
			continue
		case strings.Contains(err.Error(), cats["header"]):
		case strings.Contains(err.Error(), cats["sealed"]), strings.Contains(err.Error(), cats["nonce"]),
			strings.Contains(err.Error(), cats["truncated"]), strings.Contains(err.Error(), cats["extended"]):
			// A flipped digit that keeps the header well-formed: created,
			// nonce or size now differ from what was sealed.
			cat = ""
		}
		counts[cat]++
		if cat != "" {
			expect(cat, fmt.Sprintf("header byte %d", i), err)
		}
	}
	if counts["header"] == 0 || counts["key id"] == 0 || counts[""] == 0 {
		t.Errorf("header flips by outcome: %v; want each kind", counts)
	}
	t.Logf("header flips by outcome: %v", counts)
	// The newline that ends the header.
	if err := open(flip(nl), k); !errors.Is(err, ErrCorrupt) {
		t.Errorf("header newline flipped: %v", err)
	}
	for i := bodyAt; i < bodyAt+nonceSize; i++ {
		expect("nonce", fmt.Sprintf("nonce byte %d", i-bodyAt), open(flip(i), k))
	}
	for i := bodyAt + nonceSize; i < tagAt; i++ {
		expect("sealed", fmt.Sprintf("ciphertext byte %d", i-bodyAt-nonceSize), open(flip(i), k))
	}
	for i := tagAt; i < len(good); i++ {
		expect("sealed", fmt.Sprintf("tag byte %d", i-tagAt), open(flip(i), k))
	}
	for _, n := range []int{len(good) - 1, len(good) - tagSize, bodyAt + nonceSize + 3, bodyAt + nonceSize, bodyAt + 5, bodyAt, nl, nl / 2} {
		expect("truncated", fmt.Sprintf("truncated to %d of %d bytes", n, len(good)), open(good[:n], k))
	}
	expect("extended", "a byte appended", open(append(bytes.Clone(good), 0), k))

	// A header taken from another vault sealed with the same key, and from
	// one sealed with another key.
	for name, src := range map[string][]byte{"same key": otherData, "other key": thirdData} {
		oh, _, _ := bytes.Cut(src, []byte("\n"))
		swapped := append(append(bytes.Clone(oh), '\n'), good[bodyAt:]...)
		expect("swapped", "header swapped from a vault with the "+name, open(swapped, k))
	}
	// The whole file of another vault is that vault, not an error; the
	// third one names its key.
	if err := open(thirdData, k); !errors.Is(err, ErrWrongKey) || !strings.Contains(err.Error(), otherKey.ID()) {
		t.Errorf("another key's vault: %v", err)
	}

	// Not a vault at all; an empty file.
	for name, data := range map[string][]byte{"text": []byte("hello\n"), "empty": nil, "other json": []byte(`{"format":"x"}` + "\n")} {
		if err := open(data, k); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "not a carelens vault file") {
			t.Errorf("%s: %v", name, err)
		}
	}
	if err := open([]byte(`{"format":"carelens-vault/9"}`+"\n"), k); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "format this carelens does not know") {
		t.Errorf("a future format: %v", err)
	}
	if _, err := OpenEncrypted(path, Key{}); !errors.Is(err, ErrNoKey) {
		t.Errorf("zero key: %v", err)
	}
}

func TestMigratePlainToSealed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vault")
	pv, err := openPlain(path)
	if err != nil {
		t.Fatal(err)
	}
	p1, _ := pv.Surrogate(NSPatient, "patient-alpha-0001")
	p2, _ := pv.Surrogate(NSPatient, "patient-bravo-0002")
	pv.Bind(NSContact, "contact-alpha-9001", p1)
	pv.BindShared(NSMRNValue, "MRN-SHARED-11", p1)
	pv.BindShared(NSMRNValue, "MRN-SHARED-11", p2)
	rk := pv.RecordKey("Encounter", "encounter-0001")
	if _, err := pv.ShiftDays(p1); !errors.Is(err, ErrNotEncrypted) {
		t.Fatalf("shift on a plaintext vault: %v", err)
	}
	if _, err := pv.Erase(p1); !errors.Is(err, ErrNotEncrypted) {
		t.Fatalf("erase on a plaintext vault: %v", err)
	}
	saveT(t, pv)
	plain, _ := os.ReadFile(path)
	if !bytes.Contains(plain, []byte("patient-alpha-0001")) || sniffFormat(plain) != FormatPlain {
		t.Fatal("the v1 file is not what this test expects")
	}

	k := newKeyT(t)
	v := openT(t, path, k)
	if i := v.Info(); !i.Migrating() || i.Format != FormatPlain || i.KeyID != k.ID() || !i.Unsaved {
		t.Fatalf("Info after opening v1 = %+v", i)
	}
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("vault opened", "vault", v.Info())
	if !strings.Contains(logged.String(), "vault.migrating=true") || !strings.Contains(logged.String(), "vault.key_id="+k.ID()) ||
		strings.Contains(logged.String(), "patient-alpha") || strings.Contains(logged.String(), p1) {
		t.Errorf("log line: %s", logged.String())
	}
	if now, _ := os.ReadFile(path); !bytes.Equal(now, plain) {
		t.Fatal("opening rewrote the file")
	}
	check := func(w *Vault) {
		t.Helper()
		if s, ok := w.Lookup(NSContact, "contact-alpha-9001"); !ok || s != p1 {
			t.Errorf("contact -> %q %v", s, ok)
		}
		if s, ok := w.Lookup(NSPatient, "patient-bravo-0002"); !ok || s != p2 {
			t.Errorf("bravo -> %q %v", s, ok)
		}
		if _, ok := w.Lookup(NSMRNValue, "MRN-SHARED-11"); ok || w.Len() != 4 {
			t.Errorf("ambiguity or Len (%d) lost", w.Len())
		}
		if w.RecordKey("Encounter", "encounter-0001") != rk {
			t.Error("record key changed by the migration")
		}
	}
	check(v)
	d, err := v.ShiftDays(p1)
	if err != nil {
		t.Fatal(err)
	}
	saveT(t, v) // the migration: no other change is needed to write v2
	sealed, _ := os.ReadFile(path)
	if sniffFormat(sealed) != FormatSealed {
		t.Fatalf("after Save the file is %q", sniffFormat(sealed))
	}
	assertAbsent(t, "migrated vault", sealed, map[string][]byte{"id": []byte("patient-alpha-0001"),
		"contact": []byte("contact-alpha-9001"), "surrogate": []byte(p1), "secret": v.secret})
	if i := v.Info(); i.Migrating() || i.Format != FormatSealed {
		t.Fatalf("Info after Save = %+v", i)
	}
	w := openT(t, path, k)
	check(w)
	if got, _ := w.ShiftDays(p1); got != d {
		t.Errorf("shift %d, want %d", got, d)
	}

	// A v1 vault opened with a key and saved without any change still
	// becomes v2.
	path2 := filepath.Join(t.TempDir(), "vault")
	pv2, _ := openPlain(path2)
	pv2.Surrogate(NSPatient, "x-patient-1")
	saveT(t, pv2)
	saveT(t, openT(t, path2, k))
	if d, _ := os.ReadFile(path2); sniffFormat(d) != FormatSealed {
		t.Fatal("unchanged v1 vault not migrated by Save")
	}
}

func TestRotate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "vault")
	oldKey, newKey := newKeyT(t), newKeyT(t)
	v := openT(t, path, oldKey)
	f := fillVault(t, v)
	saveT(t, v)
	created := v.Info().Created
	// An unsaved change is written by the rotation.
	p4, _ := v.Surrogate(NSPatient, "patient-delta-0004")

	if err := v.Rotate(oldKey); err == nil || !strings.Contains(err.Error(), oldKey.ID()) {
		t.Fatalf("rotate to the same key: %v", err)
	}
	if err := v.Rotate(Key{}); !errors.Is(err, ErrNoKey) {
		t.Fatalf("rotate to the zero key: %v", err)
	}
	if err := v.Rotate(newKey); err != nil {
		t.Fatal(err)
	}
	if i := v.Info(); i.KeyID != newKey.ID() || i.Unsaved {
		t.Fatalf("Info after rotation = %+v", i)
	}
	if _, err := OpenEncrypted(path, oldKey); !errors.Is(err, ErrWrongKey) ||
		!strings.Contains(err.Error(), "sealed with key "+newKey.ID()+", the key given is "+oldKey.ID()) {
		t.Fatalf("old key after rotation: %v", err)
	}
	w := openT(t, path, newKey)
	checkFilled(t, w, f, 7)
	if s, ok := w.Lookup(NSPatient, "patient-delta-0004"); !ok || s != p4 {
		t.Fatal("unsaved change lost by the rotation")
	}
	if !w.Info().Created.Equal(created) {
		t.Fatal("rotation changed the creation time")
	}
	// Later saves use the new key.
	v.Surrogate(NSPatient, "patient-echo-0005")
	saveT(t, v)
	if _, ok := openT(t, path, newKey).Lookup(NSPatient, "patient-echo-0005"); !ok {
		t.Fatal("save after rotation")
	}

	// A rotation that cannot write leaves the file and the key as they were.
	before, _ := os.ReadFile(path)
	blocker := filepath.Join(dir, "blocker")
	os.WriteFile(blocker, nil, 0o600)
	v.path = filepath.Join(blocker, "vault") // a path under a regular file
	third := newKeyT(t)
	if err := v.Rotate(third); err == nil {
		t.Fatal("rotation to an unwritable path succeeded")
	}
	v.path = path
	if v.Info().KeyID != newKey.ID() {
		t.Fatal("failed rotation changed the key")
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(after, before) {
		t.Fatal("failed rotation changed the file")
	}
	if leftovers, _ := filepath.Glob(filepath.Join(dir, ".vault-*")); len(leftovers) > 0 {
		t.Fatalf("temporary files left: %v", leftovers)
	}

	// Rotate seals a plaintext vault for the first time.
	pp := filepath.Join(dir, "plain")
	pv, _ := openPlain(pp)
	s, _ := pv.Surrogate(NSPatient, "patient-plain-1")
	if err := pv.Rotate(newKey); err != nil {
		t.Fatal(err)
	}
	if _, err := openPlain(pp); err == nil {
		t.Fatal("openPlain reads the sealed file")
	}
	if got, ok := openT(t, pp, newKey).Lookup(NSPatient, "patient-plain-1"); !ok || got != s {
		t.Fatal("first sealing lost an entry")
	}
}
