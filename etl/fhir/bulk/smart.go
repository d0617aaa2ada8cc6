package bulk

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha512"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// ClientAssertionType is the client_assertion_type of SMART Backend Services
// (RFC 7523 JWT bearer client authentication).
const ClientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// assertionLifetime is how far in the future the client assertion's exp is.
// SMART requires at most five minutes; four leaves room for a token endpoint
// whose clock runs a little behind ours.
const assertionLifetime = 4 * time.Minute

// defaultTokenLifetime is assumed when a token response has no expires_in
// (SMART recommends 300 s); a shorter real lifetime is caught by the 401
// refresh.
const defaultTokenLifetime = 300 * time.Second

// BackendServices is a TokenSource for SMART Backend Services: it gets an
// access token from TokenURL with the client_credentials grant, authenticating
// with a JWT signed by Key (RS384 for an RSA key, ES384 for an ECDSA P-384
// key), and caches the token until shortly before its expires_in runs out.
//
// The zero value is not usable: TokenURL, ClientID, KeyID, Key and Scopes are
// required. A BackendServices must not be copied after first use; use it
// through a pointer. It is safe for concurrent use; concurrent Token calls
// share one token request.
type BackendServices struct {
	TokenURL string // the authorization server's token endpoint; also the JWT aud
	ClientID string // the registered client_id; the JWT iss and sub
	KeyID    string // the JWT kid: which of the client's registered keys signed it
	// Key signs the client assertion: *rsa.PrivateKey (RS384), *ecdsa.PrivateKey
	// on P-384 (ES384), or any crypto.Signer whose Public() is one of those (an
	// HSM or KMS key).
	Key crypto.Signer
	// Scopes are requested space-separated, e.g. "system/*.rs" or
	// "system/Patient.read".
	Scopes []string
	// HTTPClient posts to the token endpoint; nil means a client with a
	// 30-second timeout.
	HTTPClient *http.Client
	// Now is the clock for the assertion's exp and the cache; nil means
	// time.Now.
	Now func() time.Time

	mu     sync.Mutex
	token  string
	expiry time.Time
}

// Token returns a cached access token, or requests a new one when there is
// none or it expires within the refresh margin (a tenth of its lifetime, at
// most 30 s). Errors wrap ErrToken, ErrUnsupportedKey or ErrInvalidOptions.
func (b *BackendServices) Token(ctx context.Context) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	if b.token != "" && now.Before(b.expiry) {
		return b.token, nil
	}
	tok, lifetime, err := b.fetch(ctx, now)
	if err != nil {
		return "", err
	}
	margin := min(lifetime/10, 30*time.Second)
	b.token, b.expiry = tok, now.Add(lifetime-margin)
	return tok, nil
}

// Invalidate drops tok from the cache if it is the cached token, so the next
// Token call requests a new one.
func (b *BackendServices) Invalidate(tok string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.token == tok {
		b.token, b.expiry = "", time.Time{}
	}
}

func (b *BackendServices) now() time.Time {
	if b.Now != nil {
		return b.Now()
	}
	return time.Now()
}

type tokenResponse struct {
	AccessToken      string      `json:"access_token"`
	TokenType        string      `json:"token_type"`
	ExpiresIn        json.Number `json:"expires_in"`
	Scope            string      `json:"scope"`
	Error            string      `json:"error"`
	ErrorDescription string      `json:"error_description"`
}

func (b *BackendServices) fetch(ctx context.Context, now time.Time) (string, time.Duration, error) {
	switch {
	case b.TokenURL == "":
		return "", 0, fmt.Errorf("%w: BackendServices.TokenURL is empty", ErrInvalidOptions)
	case b.ClientID == "":
		return "", 0, fmt.Errorf("%w: BackendServices.ClientID is empty", ErrInvalidOptions)
	case b.KeyID == "":
		return "", 0, fmt.Errorf("%w: BackendServices.KeyID is empty", ErrInvalidOptions)
	case b.Key == nil:
		return "", 0, fmt.Errorf("%w: BackendServices.Key is nil", ErrInvalidOptions)
	case len(b.Scopes) == 0:
		return "", 0, fmt.Errorf("%w: BackendServices.Scopes is empty", ErrInvalidOptions)
	}
	assertion, err := b.assertion(now)
	if err != nil {
		return "", 0, err
	}
	form := url.Values{
		"grant_type":            {"client_credentials"},
		"scope":                 {strings.Join(b.Scopes, " ")},
		"client_assertion_type": {ClientAssertionType},
		"client_assertion":      {assertion},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", 0, fmt.Errorf("%w: %w", ErrToken, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	hc := b.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "", 0, fmt.Errorf("%w: %w", ErrToken, err)
	}
	defer resp.Body.Close()
	var tr tokenResponse
	dec := json.NewDecoder(io.LimitReader(resp.Body, maxErrorBody))
	dec.UseNumber()
	decErr := dec.Decode(&tr)
	if resp.StatusCode != http.StatusOK {
		he := &HTTPError{Op: "token", URL: redact(b.TokenURL), StatusCode: resp.StatusCode, Err: ErrToken}
		if decErr == nil && tr.Error != "" {
			he.Outcome = strings.TrimSuffix(tr.Error+": "+tr.ErrorDescription, ": ")
		}
		return "", 0, he
	}
	if decErr != nil || tr.AccessToken == "" {
		return "", 0, fmt.Errorf("%w: token response has no access_token", ErrToken)
	}
	if tr.TokenType != "" && !strings.EqualFold(tr.TokenType, "bearer") {
		return "", 0, fmt.Errorf("%w: token_type %q, want bearer", ErrToken, tr.TokenType)
	}
	lifetime := defaultTokenLifetime
	if tr.ExpiresIn != "" {
		secs, err := tr.ExpiresIn.Float64()
		if err != nil || secs <= 0 {
			return "", 0, fmt.Errorf("%w: expires_in %q", ErrToken, tr.ExpiresIn)
		}
		lifetime = time.Duration(secs * float64(time.Second))
	}
	return tr.AccessToken, lifetime, nil
}

// assertion builds and signs the client authentication JWT.
func (b *BackendServices) assertion(now time.Time) (string, error) {
	alg, err := algorithm(b.Key.Public())
	if err != nil {
		return "", err
	}
	jti := make([]byte, 16)
	if _, err := rand.Read(jti); err != nil {
		return "", fmt.Errorf("%w: jti: %w", ErrToken, err)
	}
	header, _ := json.Marshal(struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
		Typ string `json:"typ"`
	}{alg, b.KeyID, "JWT"})
	claims, _ := json.Marshal(struct {
		Iss string `json:"iss"`
		Sub string `json:"sub"`
		Aud string `json:"aud"`
		Exp int64  `json:"exp"`
		Jti string `json:"jti"`
	}{b.ClientID, b.ClientID, b.TokenURL, now.Add(assertionLifetime).Unix(), hex.EncodeToString(jti)})
	enc := base64.RawURLEncoding
	signingInput := enc.EncodeToString(header) + "." + enc.EncodeToString(claims)
	sig, err := sign(b.Key, alg, []byte(signingInput))
	if err != nil {
		return "", err
	}
	return signingInput + "." + enc.EncodeToString(sig), nil
}

// algorithm returns the JWS alg SMART defines for a public key.
func algorithm(pub crypto.PublicKey) (string, error) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < 2048 {
			return "", fmt.Errorf("%w: RSA key of %d bits, want at least 2048", ErrUnsupportedKey, k.N.BitLen())
		}
		return "RS384", nil
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P384() {
			return "", fmt.Errorf("%w: ECDSA curve %s, want P-384 (ES384)", ErrUnsupportedKey, k.Curve.Params().Name)
		}
		return "ES384", nil
	default:
		return "", fmt.Errorf("%w: %T (SMART Backend Services signs with RS384 or ES384)", ErrUnsupportedKey, pub)
	}
}

// sign signs the JWS signing input with SHA-384; ES384 signatures are
// converted from ASN.1 DER to the JOSE form r||s of 48 bytes each.
func sign(key crypto.Signer, alg string, input []byte) ([]byte, error) {
	digest := sha512.Sum384(input)
	sig, err := key.Sign(rand.Reader, digest[:], crypto.SHA384)
	if err != nil {
		return nil, fmt.Errorf("%w: sign: %w", ErrToken, err)
	}
	if alg != "ES384" {
		return sig, nil
	}
	var rs struct{ R, S *big.Int }
	if rest, err := asn1.Unmarshal(sig, &rs); err != nil || len(rest) != 0 {
		return nil, fmt.Errorf("%w: ECDSA signature is not ASN.1 (r, s)", ErrToken)
	}
	out := make([]byte, 96)
	rs.R.FillBytes(out[:48])
	rs.S.FillBytes(out[48:])
	return out, nil
}

// LoadKey parses the first private key in PEM data: PKCS#8 ("PRIVATE KEY"),
// PKCS#1 ("RSA PRIVATE KEY") or SEC 1 ("EC PRIVATE KEY"); other blocks such
// as "EC PARAMETERS" or certificates are skipped. The key must suit SMART
// Backend Services (RSA of at least 2048 bits, or ECDSA P-384); anything else,
// including an encrypted key, is ErrUnsupportedKey.
func LoadKey(pemBytes []byte) (crypto.Signer, error) {
	rest := pemBytes
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, fmt.Errorf("%w: no private key PEM block", ErrUnsupportedKey)
		}
		var (
			key any
			err error
		)
		if strings.Contains(block.Headers["Proc-Type"], "ENCRYPTED") {
			return nil, fmt.Errorf("%w: encrypted PEM key; decrypt it first", ErrUnsupportedKey)
		}
		switch block.Type {
		case "PRIVATE KEY":
			key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		case "RSA PRIVATE KEY":
			key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
		case "EC PRIVATE KEY":
			key, err = x509.ParseECPrivateKey(block.Bytes)
		case "ENCRYPTED PRIVATE KEY":
			return nil, fmt.Errorf("%w: encrypted PEM key; decrypt it first", ErrUnsupportedKey)
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrUnsupportedKey, block.Type, err)
		}
		signer, ok := key.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("%w: %T", ErrUnsupportedKey, key)
		}
		if _, err := algorithm(signer.Public()); err != nil {
			return nil, err
		}
		return signer, nil
	}
}
