package deid

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// erasedIDs are the source ids of the patient TestErase erases.
var erasedIDs = [][2]string{
	{NSPatient, "pat-erased-4471"},
	{NSMRN, "urn:oid:2.16.840|MRN-ERASED-4471"},
	{NSMRNValue, "MRN-ERASED-4471"},
	{NSContact, "crm-erased-4471"},
	{NSContact, "crm-erased-dup-4471"}, // a second CRM contact of the same person
}

func TestErase(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "vault")
	k := newKeyT(t)
	v := openT(t, path, k)
	gone, err := v.Surrogate(NSPatient, erasedIDs[0][1])
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range erasedIDs[1:] {
		if err := v.Bind(e[0], e[1], gone); err != nil {
			t.Fatal(err)
		}
	}
	kept, _ := v.Surrogate(NSPatient, "pat-kept-1000")
	v.Bind(NSContact, "crm-kept-1000", kept)
	// An MRN value shared by both people is ambiguous: it links nobody and
	// stays after the erasure.
	v.BindShared(NSMRNValue, "MRN-SHARED-1", gone)
	v.BindShared(NSMRNValue, "MRN-SHARED-1", kept)
	shiftKept, _ := v.ShiftDays(kept)
	v.ShiftDays(gone)
	rk := v.RecordKey("Encounter", "enc-of-erased")
	if got := v.Keys(gone); !reflect.DeepEqual(got, []string{NSContact, NSMRN, NSMRNValue, NSPatient}) {
		t.Fatalf("Keys before = %v", got)
	}
	saveT(t, v) // the erased ids are in the vault file before the erasure

	e, err := v.Erase(gone)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{NSPatient: 1, NSMRN: 1, NSMRNValue: 1, NSContact: 2}
	if !reflect.DeepEqual(e.Keys, want) || e.Total() != 5 || !e.DateShift {
		t.Fatalf("Erasure = %+v, want keys %v and the date shift", e, want)
	}
	if s := fmt.Sprintf("%+v", e); strings.Contains(s, "4471") || strings.Contains(s, gone) {
		t.Fatalf("Erasure reports ids: %s", s)
	}

	check := func(v *Vault, when string) {
		t.Helper()
		for _, id := range erasedIDs {
			if s, ok := v.Lookup(id[0], id[1]); ok {
				t.Errorf("%s: Lookup(%s) = %q after erasure", when, id[0], s)
			}
			if !v.IsErased(id[0], id[1]) {
				t.Errorf("%s: IsErased(%s) = false", when, id[0])
			}
			n := v.Len()
			_, err := v.Surrogate(id[0], id[1])
			if !errors.Is(err, ErrErased) {
				t.Errorf("%s: Surrogate(%s): %v, want ErrErased", when, id[0], err)
			} else if strings.Contains(err.Error(), id[1]) {
				t.Errorf("%s: error names the id: %v", when, err)
			}
			if err := v.Bind(id[0], id[1], kept); !errors.Is(err, ErrErased) {
				t.Errorf("%s: Bind(%s) to another patient: %v", when, id[0], err)
			}
			if amb, err := v.BindShared(id[0], id[1], kept); amb || !errors.Is(err, ErrErased) {
				t.Errorf("%s: BindShared(%s): %v %v", when, id[0], amb, err)
			}
			if v.Len() != n {
				t.Errorf("%s: a refused call created a key", when)
			}
		}
		// The erased surrogate takes no new key, no date shift and cannot be
		// erased twice.
		if err := v.Bind(NSContact, "crm-new-9999", gone); !errors.Is(err, ErrErased) {
			t.Errorf("%s: Bind to the erased surrogate: %v", when, err)
		}
		if _, err := v.BindShared(NSMRNValue, "MRN-NEW-9999", gone); !errors.Is(err, ErrErased) {
			t.Errorf("%s: BindShared to the erased surrogate: %v", when, err)
		}
		if _, err := v.ShiftDays(gone); !errors.Is(err, ErrErased) {
			t.Errorf("%s: ShiftDays of the erased surrogate: %v", when, err)
		}
		if _, err := v.Erase(gone); !errors.Is(err, ErrErased) {
			t.Errorf("%s: second Erase: %v", when, err)
		}
		if v.Keys(gone) != nil {
			t.Errorf("%s: Keys of the erased patient = %v", when, v.Keys(gone))
		}
		// The other patient, the ambiguous key and the record keys stay.
		if s, ok := v.Lookup(NSContact, "crm-kept-1000"); !ok || s != kept {
			t.Errorf("%s: the other patient lost a key", when)
		}
		if d, _ := v.ShiftDays(kept); d != shiftKept {
			t.Errorf("%s: the other patient's shift changed", when)
		}
		if got := v.Keys(kept); !reflect.DeepEqual(got, []string{NSContact, NSPatient}) {
			t.Errorf("%s: Keys(kept) = %v", when, got)
		}
		if v.IsErased(NSContact, "crm-kept-1000") || v.IsErased(NSPatient, "never-seen") {
			t.Errorf("%s: IsErased reports a live or unknown key", when)
		}
		if v.Len() != 3 { // kept's two keys and the ambiguous MRN value
			t.Errorf("%s: Len = %d, want 3", when, v.Len())
		}
		if v.RecordKey("Encounter", "enc-of-erased") != rk {
			t.Errorf("%s: record keys changed", when)
		}
		if i := v.Info(); i.Tombstones != len(erasedIDs) || i.Patients != 1 || i.Shifts != 1 {
			t.Errorf("%s: Info = %+v", when, i)
		}
	}
	check(v, "in memory")
	if _, err := v.Erase("0000000000000000"); !errors.Is(err, ErrUnknownSurrogate) {
		t.Errorf("Erase of an unknown surrogate: %v", err)
	}
	if _, err := v.Erase(ambiguous); !errors.Is(err, ErrUnknownSurrogate) {
		t.Errorf("Erase of the ambiguous marker: %v", err)
	}

	saveT(t, v)
	w := openT(t, path, k)
	check(w, "after reload")

	// Nothing of the erased patient is left in the sealed payload itself.
	data, _ := os.ReadFile(path)
	_, plain, err := unseal(data, k)
	if err != nil {
		t.Fatal(err)
	}
	absent := map[string][]byte{"surrogate": []byte(gone)}
	for _, id := range erasedIDs {
		absent[id[0]+" id"] = []byte(id[1])
	}
	absent["id stem"] = []byte("ERASED-4471")
	assertAbsent(t, "payload after erasure", plain, absent)
	if !strings.Contains(string(plain), "pat-kept-1000") || !strings.Contains(string(plain), `"erased":["`) {
		t.Fatal("the payload check does not see the payload")
	}

	// Tombstones survive a rotation.
	k2 := newKeyT(t)
	if err := w.Rotate(k2); err != nil {
		t.Fatal(err)
	}
	check(openT(t, path, k2), "after rotation")
}

// A tombstone is a keyed hash: domain-separated from record keys, from
// surrogate tombstones, and not computable without the vault secret.
func TestTombstoneDerivation(t *testing.T) {
	a := openT(t, filepath.Join(t.TempDir(), "a"), newKeyT(t))
	b := openT(t, filepath.Join(t.TempDir(), "b"), newKeyT(t))
	ta, tb := a.tomb(tombOfKey, NSPatient, "p1"), b.tomb(tombOfKey, NSPatient, "p1")
	if ta == tb {
		t.Fatal("tombstones do not depend on the vault secret")
	}
	if ta != a.tomb(tombOfKey, NSPatient, "p1") {
		t.Fatal("tombstones are not stable")
	}
	if ta == a.tomb(tombOfKey, NSContact, "p1") || ta == a.tomb(tombOfKey, NSPatient, "p2") {
		t.Fatal("tombstones collide across namespaces or ids")
	}
	// "key" NUL ns NUL id cannot meet "surrogate" NUL s.
	if a.tomb(tombOfPatient, NSPatient+"\x00p1").h == ta.h {
		t.Fatal("key and surrogate tombstones collide")
	}
	// Not a RecordKey of any spelling of the same input.
	for _, rk := range []string{a.RecordKey(NSPatient, "p1"), a.RecordKey("key", NSPatient+"\x00p1"), a.RecordKey("key\x00"+NSPatient, "p1")} {
		if strings.HasPrefix(ta.String(), rk[:16]) {
			t.Fatal("a tombstone equals a record key")
		}
	}
	if string(a.tombKey) == string(a.secret) {
		t.Fatal("tombstones are keyed with the record-key secret itself")
	}
}

func TestEachSourceID(t *testing.T) {
	v := openT(t, filepath.Join(t.TempDir(), "vault"), newKeyT(t))
	want := []string{}
	for i := 0; i < 20; i++ {
		s, _ := v.Surrogate(NSPatient, fmt.Sprintf("pat-%d", i))
		v.Bind(NSContact, fmt.Sprintf("crm-%d", i), s)
		want = append(want, NSPatient+" pat-"+fmt.Sprint(i), NSContact+" crm-"+fmt.Sprint(i))
	}
	a, _ := v.Lookup(NSPatient, "pat-0")
	b, _ := v.Lookup(NSPatient, "pat-1")
	v.BindShared(NSMRNValue, "shared", a)
	v.BindShared(NSMRNValue, "shared", b)
	want = append(want, NSMRNValue+" shared")
	// Erased keys are not visited.
	c, _ := v.Surrogate(NSPatient, "pat-erased")
	v.Erase(c)

	var got []string
	for ns, id := range v.EachSourceID { // usable as an iter.Seq2
		got = append(got, ns+" "+id)
		// The callback may use the vault (no lock is held).
		if _, ok := v.Lookup(ns, id); !ok && id != "shared" {
			t.Errorf("%s not found during the walk", ns)
		}
	}
	sort.Strings(got)
	sort.Strings(want)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("EachSourceID visited %d pairs, want %d:\n%v\n%v", len(got), len(want), got, want)
	}
	n := 0
	v.EachSourceID(func(ns, id string) bool { n++; return n < 5 })
	if n != 5 {
		t.Fatalf("walk did not stop when fn returned false: %d calls", n)
	}
}

// An erased surrogate is never issued again, even when the random draw hits
// it (forced here), nor is a live one.
func TestErasedSurrogateNotReissued(t *testing.T) {
	v := openT(t, filepath.Join(t.TempDir(), "vault"), newKeyT(t))
	gone, _ := v.Surrogate(NSPatient, "erased")
	live, _ := v.Surrogate(NSPatient, "live")
	if _, err := v.Erase(gone); err != nil {
		t.Fatal(err)
	}
	g, _ := hex.DecodeString(gone)
	l, _ := hex.DecodeString(live)
	fresh := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	v.random = bytes.NewReader(bytes.Join([][]byte{g, l, g, fresh}, nil))
	s, err := v.Surrogate(NSPatient, "new")
	if err != nil {
		t.Fatal(err)
	}
	if s != hex.EncodeToString(fresh) {
		t.Fatalf("issued %s; want the first draw that is neither erased nor live", s)
	}
	v.random = bytes.NewReader(nil)
	if _, err := v.Surrogate(NSPatient, "newer"); err == nil {
		t.Fatal("a failing random source issued a surrogate")
	}
}
