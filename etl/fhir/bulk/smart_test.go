package bulk

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	rsaKey = sync.OnceValue(func() *rsa.PrivateKey {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		return k
	})
	ecKey = sync.OnceValue(func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		if err != nil {
			panic(err)
		}
		return k
	})
)

// fakeClock is a settable clock shared by a BackendServices and the token
// endpoint that checks its assertions.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// tokenServer is a SMART Backend Services token endpoint: it verifies the
// client assertion's signature against the registered public key, its
// header (alg, kid, typ) and claims (iss, sub, aud, exp within five
// minutes, unused jti), and issues tok-1, tok-2, … with expires_in lifetime.
type tokenServer struct {
	srv      *httptest.Server
	pub      crypto.PublicKey
	alg      string
	clientID string
	kid      string
	scope    string
	lifetime int
	clock    *fakeClock

	mu       sync.Mutex
	issued   []string
	jtis     map[string]bool
	problems []string
}

func newTokenServer(t *testing.T, pub crypto.PublicKey, alg string, clock *fakeClock) *tokenServer {
	ts := &tokenServer{pub: pub, alg: alg, clientID: "carelens-etl", kid: "key-2025",
		scope: "system/Patient.rs system/Observation.rs", lifetime: 300, clock: clock, jtis: map[string]bool{}}
	ts.srv = httptest.NewServer(http.HandlerFunc(ts.serve))
	t.Cleanup(ts.srv.Close)
	return ts
}

func (ts *tokenServer) url() string { return ts.srv.URL + "/auth/token" }

func (ts *tokenServer) refuse(w http.ResponseWriter, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	ts.problems = append(ts.problems, msg)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	json.NewEncoder(w).Encode(map[string]string{"error": "invalid_client", "error_description": msg})
}

func (ts *tokenServer) serve(w http.ResponseWriter, r *http.Request) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if r.Method != http.MethodPost || r.URL.Path != "/auth/token" ||
		r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		ts.refuse(w, "bad request %s %s %s", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
		return
	}
	if err := r.ParseForm(); err != nil {
		ts.refuse(w, "form: %v", err)
		return
	}
	f := r.PostForm
	if f.Get("grant_type") != "client_credentials" {
		ts.refuse(w, "grant_type %q", f.Get("grant_type"))
		return
	}
	if f.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
		ts.refuse(w, "client_assertion_type %q", f.Get("client_assertion_type"))
		return
	}
	if f.Get("scope") != ts.scope {
		ts.refuse(w, "scope %q", f.Get("scope"))
		return
	}
	parts := strings.Split(f.Get("client_assertion"), ".")
	if len(parts) != 3 {
		ts.refuse(w, "assertion has %d parts", len(parts))
		return
	}
	dec := base64.RawURLEncoding
	hb, err1 := dec.DecodeString(parts[0])
	cb, err2 := dec.DecodeString(parts[1])
	sig, err3 := dec.DecodeString(parts[2])
	if err := errors.Join(err1, err2, err3); err != nil {
		ts.refuse(w, "base64url: %v", err)
		return
	}
	var header struct{ Alg, Kid, Typ string }
	if err := json.Unmarshal(hb, &header); err != nil || header.Alg != ts.alg || header.Kid != ts.kid || header.Typ != "JWT" {
		ts.refuse(w, "header %s", hb)
		return
	}
	digest := sha512.Sum384([]byte(parts[0] + "." + parts[1]))
	switch pub := ts.pub.(type) {
	case *rsa.PublicKey:
		if err := rsa.VerifyPKCS1v15(pub, crypto.SHA384, digest[:], sig); err != nil {
			ts.refuse(w, "RS384 signature: %v", err)
			return
		}
	case *ecdsa.PublicKey:
		if len(sig) != 96 {
			ts.refuse(w, "ES384 signature of %d bytes, want r||s of 96", len(sig))
			return
		}
		r, s := new(big.Int).SetBytes(sig[:48]), new(big.Int).SetBytes(sig[48:])
		if !ecdsa.Verify(pub, digest[:], r, s) {
			ts.refuse(w, "ES384 signature does not verify")
			return
		}
	}
	var claims map[string]any
	if err := json.Unmarshal(cb, &claims); err != nil {
		ts.refuse(w, "claims: %v", err)
		return
	}
	now := ts.clock.now().Unix()
	exp, _ := claims["exp"].(float64)
	jti, _ := claims["jti"].(string)
	switch {
	case claims["iss"] != ts.clientID || claims["sub"] != ts.clientID:
		ts.refuse(w, "iss/sub %v/%v", claims["iss"], claims["sub"])
		return
	case claims["aud"] != ts.url():
		ts.refuse(w, "aud %v, want the token URL", claims["aud"])
		return
	case int64(exp) <= now || int64(exp) > now+300:
		ts.refuse(w, "exp %v is not within five minutes of %d", exp, now)
		return
	case jti == "" || ts.jtis[jti]:
		ts.refuse(w, "jti %q missing or replayed", jti)
		return
	}
	ts.jtis[jti] = true
	tok := fmt.Sprintf("tok-%d", len(ts.issued)+1)
	ts.issued = append(ts.issued, tok)
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"access_token": tok, "token_type": "bearer", "expires_in": ts.lifetime, "scope": ts.scope,
	})
}

func (ts *tokenServer) state() (issued, problems []string) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return slices.Clone(ts.issued), slices.Clone(ts.problems)
}

// opaqueSigner hides the concrete key type, like an HSM or KMS signer.
type opaqueSigner struct{ s crypto.Signer }

func (o opaqueSigner) Public() crypto.PublicKey { return o.s.Public() }
func (o opaqueSigner) Sign(r io.Reader, d []byte, opts crypto.SignerOpts) ([]byte, error) {
	return o.s.Sign(r, d, opts)
}

func pemOf(t *testing.T, typ string, der []byte) []byte {
	t.Helper()
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func pkcs8(t *testing.T, key any) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pemOf(t, "PRIVATE KEY", der)
}

func newBackend(ts *tokenServer, key crypto.Signer) *BackendServices {
	return &BackendServices{
		TokenURL: ts.url(), ClientID: ts.clientID, KeyID: ts.kid, Key: key,
		Scopes: strings.Fields(ts.scope), Now: ts.clock.now,
	}
}

func TestBackendServicesToken(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		alg  string
		key  func(t *testing.T) crypto.Signer
	}{
		{"RS384 from a PKCS#8 PEM", "RS384", func(t *testing.T) crypto.Signer {
			k, err := LoadKey(pkcs8(t, rsaKey()))
			if err != nil {
				t.Fatal(err)
			}
			return k
		}},
		{"RS384 from a PKCS#1 PEM", "RS384", func(t *testing.T) crypto.Signer {
			k, err := LoadKey(pemOf(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey())))
			if err != nil {
				t.Fatal(err)
			}
			return k
		}},
		{"ES384 from a SEC 1 PEM", "ES384", func(t *testing.T) crypto.Signer {
			der, err := x509.MarshalECPrivateKey(ecKey())
			if err != nil {
				t.Fatal(err)
			}
			k, err := LoadKey(pemOf(t, "EC PRIVATE KEY", der))
			if err != nil {
				t.Fatal(err)
			}
			return k
		}},
		{"ES384 through an opaque crypto.Signer", "ES384", func(t *testing.T) crypto.Signer {
			return opaqueSigner{ecKey()}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			key := tc.key(t)
			clock := &fakeClock{t: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)}
			ts := newTokenServer(t, key.Public(), tc.alg, clock)
			b := newBackend(ts, key)
			ctx := context.Background()
			get := func(want string) {
				t.Helper()
				tok, err := b.Token(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if tok != want {
					t.Errorf("token %q, want %q", tok, want)
				}
			}
			get("tok-1")
			get("tok-1") // cached
			var wg sync.WaitGroup
			for range 8 {
				wg.Go(func() { get("tok-1") })
			}
			wg.Wait()
			clock.advance(269 * time.Second) // expires_in 300, refreshed 30 s early
			get("tok-1")
			clock.advance(2 * time.Second)
			get("tok-2")
			b.Invalidate("tok-1") // stale: no effect
			get("tok-2")
			b.Invalidate("tok-2")
			get("tok-3")
			issued, problems := ts.state()
			if len(problems) != 0 {
				t.Errorf("token endpoint refused assertions: %q", problems)
			}
			if !slices.Equal(issued, []string{"tok-1", "tok-2", "tok-3"}) {
				t.Errorf("issued %q, want three tokens", issued)
			}
		})
	}
}

func TestBackendServicesErrors(t *testing.T) {
	t.Parallel()
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	stranger, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	clock := &fakeClock{t: time.Now()}
	cases := []struct {
		name    string
		mod     func(b *BackendServices, ts *tokenServer)
		wantErr error
		outcome string
	}{
		{"key the server does not know", func(b *BackendServices, ts *tokenServer) { b.Key = stranger }, ErrToken, "invalid_client: ES384 signature does not verify"},
		{"wrong kid", func(b *BackendServices, ts *tokenServer) { b.KeyID = "old" }, ErrToken, "invalid_client: header"},
		{"P-256 key", func(b *BackendServices, ts *tokenServer) { b.Key = p256 }, ErrUnsupportedKey, ""},
		{"no scopes", func(b *BackendServices, ts *tokenServer) { b.Scopes = nil }, ErrInvalidOptions, ""},
		{"no token URL", func(b *BackendServices, ts *tokenServer) { b.TokenURL = "" }, ErrInvalidOptions, ""},
		{"unreachable token URL", func(b *BackendServices, ts *tokenServer) { b.TokenURL = "http://127.0.0.1:1/token" }, ErrToken, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ts := newTokenServer(t, ecKey().Public(), "ES384", clock)
			b := newBackend(ts, ecKey())
			tc.mod(b, ts)
			_, err := b.Token(context.Background())
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("error %v, want %v", err, tc.wantErr)
			}
			if tc.outcome != "" {
				var he *HTTPError
				if !errors.As(err, &he) || !strings.HasPrefix(he.Outcome, tc.outcome) {
					t.Errorf("error %v, want outcome %q", err, tc.outcome)
				}
			}
		})
	}
}

func TestBackendServicesBadResponses(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		body string
	}{
		{"no access_token", `{"token_type":"bearer","expires_in":300}`},
		{"not bearer", `{"access_token":"x","token_type":"mac","expires_in":300}`},
		{"bad expires_in", `{"access_token":"x","token_type":"bearer","expires_in":-5}`},
		{"not JSON", `<html>`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				io.WriteString(w, tc.body)
			}))
			defer srv.Close()
			b := &BackendServices{TokenURL: srv.URL, ClientID: "c", KeyID: "k", Key: ecKey(), Scopes: []string{"system/*.rs"}}
			if _, err := b.Token(context.Background()); !errors.Is(err, ErrToken) {
				t.Errorf("error %v, want ErrToken", err)
			}
		})
	}
}

// TestExportTokenExpiresMidExport: the FHIR server stops accepting tok-1
// after three requests (kick-off and two polls); the third poll's 401 makes
// the client invalidate it, get tok-2 from the token endpoint and carry on,
// using tok-2 for the files that require it.
func TestExportTokenExpiresMidExport(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{t: time.Now()}
	ts := newTokenServer(t, ecKey().Public(), "ES384", clock)
	fs := newFakeServer(t, serverConfig{
		polls:               4,
		requiresAccessToken: true,
		files:               defaultFiles(),
		tokenValid: func(tok string, uses int) bool {
			issued, _ := ts.state()
			return slices.Contains(issued, tok) && (tok != "tok-1" || uses < 3)
		},
	})
	c := newTestClient(t, fs, func(o *Options) { o.Auth = newBackend(ts, ecKey()) })
	dir := t.TempDir()
	m, err := c.Export(context.Background(), Request{}, dir)
	if err != nil {
		t.Fatal(err)
	}
	checkWritten(t, fs, m, dir)
	issued, problems := ts.state()
	seen := fs.snapshot()
	if !slices.Equal(issued, []string{"tok-1", "tok-2"}) || len(problems) != 0 {
		t.Errorf("issued %q problems %q, want tok-1 then tok-2", issued, problems)
	}
	if seen.unauthorized != 1 {
		t.Errorf("401s = %d, want exactly 1", seen.unauthorized)
	}
	for name, auth := range seen.fileAuth {
		if !slices.Equal(auth, []string{"Bearer tok-2"}) {
			t.Errorf("%s saw %q, want the refreshed token", name, auth)
		}
	}
	if len(seen.deletes) != 1 {
		t.Errorf("DELETEs = %q", seen.deletes)
	}
}

// TestExportTokenStillRejected: a refreshed token that is rejected too ends
// the export with ErrUnauthorized after exactly one refresh.
func TestExportTokenStillRejected(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{t: time.Now()}
	ts := newTokenServer(t, ecKey().Public(), "ES384", clock)
	fs := newFakeServer(t, serverConfig{tokenValid: func(string, int) bool { return false }})
	c := newTestClient(t, fs, func(o *Options) { o.Auth = newBackend(ts, ecKey()) })
	_, err := c.Export(context.Background(), Request{}, t.TempDir())
	if !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("error %v, want ErrUnauthorized", err)
	}
	if issued, _ := ts.state(); len(issued) != 2 {
		t.Errorf("issued %q, want one refresh", issued)
	}
}

func TestLoadKey(t *testing.T) {
	t.Parallel()
	sec1, err := x509.MarshalECPrivateKey(ecKey())
	if err != nil {
		t.Fatal(err)
	}
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p256der, _ := x509.MarshalECPrivateKey(p256)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	params := pemOf(t, "EC PARAMETERS", []byte{0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22})
	cases := []struct {
		name    string
		pem     []byte
		wantAlg string
		wantErr error
	}{
		{"PKCS#8 RSA", pkcs8(t, rsaKey()), "RS384", nil},
		{"PKCS#1 RSA", pemOf(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey())), "RS384", nil},
		{"SEC 1 P-384 after EC PARAMETERS", append(params, pemOf(t, "EC PRIVATE KEY", sec1)...), "ES384", nil},
		{"PKCS#8 P-384", pkcs8(t, ecKey()), "ES384", nil},
		{"P-256", pemOf(t, "EC PRIVATE KEY", p256der), "", ErrUnsupportedKey},
		{"Ed25519", pkcs8(t, edKey), "", ErrUnsupportedKey},
		{"encrypted PKCS#8", pemOf(t, "ENCRYPTED PRIVATE KEY", []byte{1, 2, 3}), "", ErrUnsupportedKey},
		{"certificate only", pemOf(t, "CERTIFICATE", []byte{1, 2, 3}), "", ErrUnsupportedKey},
		{"corrupt PKCS#1", pemOf(t, "RSA PRIVATE KEY", []byte{1, 2, 3}), "", ErrUnsupportedKey},
		{"not PEM", []byte("hello"), "", ErrUnsupportedKey},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			k, err := LoadKey(tc.pem)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("error %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if alg, _ := algorithm(k.Public()); alg != tc.wantAlg {
				t.Errorf("alg %q, want %q", alg, tc.wantAlg)
			}
		})
	}
}
