package deid

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// keyBytes has bytes whose base64 differs between the standard and URL
// alphabets ('+' '/' against '-' '_'), so both decoders are exercised.
var keyBytes = func() []byte {
	b := make([]byte, 32)
	for i := range b {
		b[i] = byte(0xfb - i*7)
	}
	return b
}()

func TestParseKey(t *testing.T) {
	std := base64.StdEncoding.EncodeToString(keyBytes)
	url := base64.URLEncoding.EncodeToString(keyBytes)
	if std == url || !strings.ContainsAny(std, "+/") {
		t.Fatalf("test key does not tell the alphabets apart: %s %s", std, url)
	}
	for name, in := range map[string]string{
		"hex":            hex.EncodeToString(keyBytes),
		"HEX":            strings.ToUpper(hex.EncodeToString(keyBytes)),
		"hex+newline":    hex.EncodeToString(keyBytes) + "\n",
		"base64":         std,
		"base64url":      url,
		"base64 raw":     strings.TrimRight(std, "="),
		"base64url raw":  strings.TrimRight(url, "="),
		"base64 spaced ": "  " + std + " \r\n",
	} {
		k, err := ParseKey(in)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !bytes.Equal(k.b[:], keyBytes) {
			t.Errorf("%s: decoded to other bytes", name)
		}
	}

	h := hex.EncodeToString(keyBytes)
	for name, in := range map[string]string{
		"empty":           "",
		"blank":           " \n",
		"63 hex":          h[:63],
		"65 hex":          h + "a",
		"62 hex":          h[:62],
		"64 not hex":      "zz" + h[2:],
		"base64 31 bytes": base64.StdEncoding.EncodeToString(keyBytes[:31]),
		"base64 33 bytes": base64.StdEncoding.EncodeToString(append(keyBytes[:32:32], 1)),
		"garbage 44":      strings.Repeat("!", 44),
		"hex in base64":   base64.StdEncoding.EncodeToString([]byte(h))[:44],
		"zero key":        strings.Repeat("0", 64),
		"passphrase":      "correct horse battery staple",
	} {
		_, err := ParseKey(in)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		msg := err.Error()
		if name != "zero key" && !strings.Contains(msg, "64 hex characters or the base64 encoding of 32 bytes") {
			t.Errorf("%s: error does not name the expected form: %s", name, msg)
		}
		if s := strings.TrimSpace(in); len(s) >= 4 && strings.Contains(msg, s[:4]) {
			t.Errorf("%s: error echoes the input: %s", name, msg)
		}
	}
}

func TestKeyEncodingsAndID(t *testing.T) {
	k, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	k2, _ := NewKey()
	if k == k2 || k.isZero() {
		t.Fatal("NewKey not random")
	}
	back, err := ParseKey(k.String())
	if err != nil || back != k {
		t.Fatalf("String does not round-trip: %v", err)
	}
	id := k.ID()
	if len(id) != 16 || !isHex(id) || id == k2.ID() {
		t.Fatalf("ID = %q (other key %q)", id, k2.ID())
	}
	if strings.Contains(k.String(), id) {
		t.Fatal("ID is part of the key")
	}
	// The id is not a plain hash of the key: it is domain-separated.
	if id == fmt.Sprintf("%x", sha256.Sum256(k.b[:]))[:16] {
		t.Fatal("ID is the undomain-separated hash")
	}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("vault", "key", k, "ptr", &k)
	for _, s := range []string{fmt.Sprint(k), fmt.Sprintf("%s %v %x %X %q %#v %+v", k, k, k, k, k, k, k),
		fmt.Sprint(&k), fmt.Errorf("bad %v", k).Error(), logged.String()} {
		if strings.Contains(strings.ToLower(s), k.String()) {
			t.Errorf("key material printed: %s", s)
		}
		if !strings.Contains(s, id) {
			t.Errorf("key id missing from %s", s)
		}
	}
}

func TestLoadKey(t *testing.T) {
	dir := t.TempDir()
	fileKey, _ := NewKey()
	envKey, _ := NewKey()
	file := filepath.Join(dir, "vault.key")
	if err := WriteKeyFile(file, fileKey); err != nil {
		t.Fatal(err)
	}
	env := func(vals ...string) []string {
		e := []string{"PATH=/bin", "CARELENS_VAULT_KEYS=not-this", "X_CARELENS_VAULT_KEY=nor-this"}
		for _, v := range vals {
			e = append(e, KeyEnv+"="+v)
		}
		return e
	}

	if k, err := LoadKey(env(envKey.String()), file); err != nil || k != envKey {
		t.Errorf("env over file: got %v, %v; want env key %s", k, err, envKey.ID())
	}
	if k, err := LoadKey(env(fileKey.String(), envKey.String()), file); err != nil || k != envKey {
		t.Errorf("last env entry wins: %v, %v", k, err)
	}
	if k, err := LoadKey(env(), file); err != nil || k != fileKey {
		t.Errorf("file without env: %v, %v", k, err)
	}
	if k, err := LoadKey(env(""), file); err != nil || k != fileKey {
		t.Errorf("empty env is unset: %v, %v", k, err)
	}
	// A malformed env key is an error, not a fall-through to the file.
	if _, err := LoadKey(env("0123"), file); err == nil || !strings.Contains(err.Error(), KeyEnv) || strings.Contains(err.Error(), "0123") {
		t.Errorf("bad env key: %v", err)
	}
	for _, kf := range []string{"", filepath.Join(dir, "missing.key")} {
		_, err := LoadKey(env(), kf)
		if !errors.Is(err, ErrNoKey) || !strings.Contains(err.Error(), KeyEnv) || !strings.Contains(err.Error(), "key file") {
			t.Errorf("no key (file %q): %v; want ErrNoKey explaining how to supply one", kf, err)
		}
	}

	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o620, 0o660} {
		if err := os.Chmod(file, mode); err != nil {
			t.Fatal(err)
		}
		_, err := LoadKey(env(), file)
		if err == nil || !strings.Contains(err.Error(), "chmod 600") || !strings.Contains(err.Error(), fmt.Sprintf("%04o", mode)) {
			t.Errorf("mode %04o: %v; want a refusal saying chmod 600", mode, err)
		}
		if err != nil && strings.Contains(err.Error(), fileKey.String()) {
			t.Error("error holds the key")
		}
		// The environment still wins over a badly protected file.
		if k, err := LoadKey(env(envKey.String()), file); err != nil || k != envKey {
			t.Errorf("mode %04o with env key: %v", mode, err)
		}
	}
	for _, mode := range []os.FileMode{0o600, 0o400} {
		os.Chmod(file, mode)
		if k, err := LoadKey(env(), file); err != nil || k != fileKey {
			t.Errorf("mode %04o: %v, %v", mode, k, err)
		}
	}

	bad := filepath.Join(dir, "bad.key")
	os.WriteFile(bad, []byte("not a key at all\n"), 0o600)
	if _, err := LoadKey(nil, bad); err == nil || strings.Contains(err.Error(), "not a key") || !strings.Contains(err.Error(), bad) {
		t.Errorf("malformed key file: %v", err)
	}
	if _, err := LoadKey(nil, dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("directory as key file: %v", err)
	}
}

func TestWriteKeyFile(t *testing.T) {
	dir := t.TempDir()
	k, _ := NewKey()
	path := filepath.Join(dir, "data", "vault.key")
	if err := WriteKeyFile(path, k); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, %v; want 0600", st.Mode().Perm(), err)
	}
	b, _ := os.ReadFile(path)
	if string(b) != k.String()+"\n" {
		t.Fatal("key file content is not the hex key and a newline")
	}
	other, _ := NewKey()
	err = WriteKeyFile(path, other)
	if !errors.Is(err, fs.ErrExist) || !strings.Contains(err.Error(), "refusing to overwrite") {
		t.Fatalf("overwrite: %v; want fs.ErrExist", err)
	}
	if got, err := LoadKey(nil, path); err != nil || got != k {
		t.Fatalf("key file changed by the refused overwrite: %v", err)
	}
	if err := WriteKeyFile(filepath.Join(dir, "zero.key"), Key{}); err == nil {
		t.Fatal("zero key written")
	}
	if _, err := os.Stat(filepath.Join(dir, "zero.key")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("zero key left a file")
	}
}
