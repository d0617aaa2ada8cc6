package rest

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/carelens/carelens/etl/crm/contract"
)

// Pagination styles (Config.Pagination).
const (
	PaginationCursor    = "cursor"
	PaginationPageToken = "page_token"
)

// Defaults applied by New to zero Config fields.
const (
	DefaultPageSize      = 500
	DefaultMaxRetries    = 6
	DefaultMaxBackoff    = 30 * time.Second
	DefaultHTTPTimeout   = 2 * time.Minute
	DefaultDataField     = "data"
	DefaultSinceParam    = "updated_since"
	DefaultPageSizeParam = "limit"
)

// entities are the names of the CRM entities of the export contract, in
// load order.
var entities = contract.Entities

// Entities returns the names of the CRM entities a Client can pull, in the
// order a job should load them (referenced entities first).
func Entities() []string { return slices.Clone(entities) }

// Config configures a Client. Only BaseURL is required.
type Config struct {
	// BaseURL is the API root, e.g. https://crm.example.org/api/v2; entity
	// paths are appended to it. Its scheme, host and port are the only
	// origin that receives the bearer token. It must not carry credentials,
	// a query or a fragment.
	BaseURL string
	// Token is a static bearer token. At most one of Token and OAuth is set;
	// with neither, requests are not authenticated.
	Token string
	// OAuth gets bearer tokens with the client credentials grant.
	OAuth *OAuth

	// Pagination is PaginationCursor (the default) or PaginationPageToken;
	// it sets the defaults of CursorParam and NextField.
	Pagination string
	// CursorParam is the query parameter carrying the cursor ("cursor" or
	// "page_token" by style).
	CursorParam string
	// NextField is the response field holding the next cursor
	// ("next_cursor" or "next_page_token" by style).
	NextField string
	// DataField is the response field holding the records (default "data").
	DataField string
	// SinceParam is the query parameter carrying the since time (default
	// "updated_since").
	SinceParam string
	// PageSizeParam is the query parameter carrying the page size (default
	// "limit").
	PageSizeParam string
	// PageSize is the number of records asked for per page (default 500).
	PageSize int

	// Entities overrides the path and field names of some entities; keys
	// are contract entity names (see Entities).
	Entities map[string]EntityConfig

	// MaxRetries is how many times a request is retried after a transient
	// failure. Zero means DefaultMaxRetries; negative means never retry.
	MaxRetries int
	// MaxBackoff caps every single wait, Retry-After included. Zero means
	// DefaultMaxBackoff.
	MaxBackoff time.Duration

	// HTTPClient sends every request; nil means a client with a
	// DefaultHTTPTimeout timeout. New uses a copy whose redirect policy
	// drops the Authorization header on a redirect to another origin.
	HTTPClient *http.Client
	// Sleep waits d or until ctx is done, returning ctx's error in that
	// case; nil means a real timer. Tests replace it to record waits.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now is the clock for Retry-After dates and the OAuth token cache; nil
	// means time.Now.
	Now func() time.Time
	// Logger receives entity names, counts, statuses and waits, never
	// record values or tokens. Nil discards.
	Logger *slog.Logger
}

// OAuth configures the OAuth 2.0 client credentials grant (RFC 6749 §4.4).
type OAuth struct {
	// TokenURL is the authorization server's token endpoint (absolute
	// http(s) URL).
	TokenURL string
	// ClientID and ClientSecret authenticate the client with HTTP Basic
	// (RFC 6749 §2.3.1). Both are required.
	ClientID, ClientSecret string
	// Scope is sent as the scope parameter when not empty.
	Scope string
}

// EntityConfig adapts one entity to an API whose names differ from the
// contract.
type EntityConfig struct {
	// Path is appended to BaseURL; it starts with "/" and defaults to
	// "/" + entity.
	Path string
	// Fields maps a contract field name to the key holding it in the API
	// record. An API key not listed keeps its name as the contract field
	// name, except a key named like a contract field that Fields takes from
	// another key: that key is ignored. Two contract fields cannot map to
	// the same API key.
	Fields map[string]string
}

// entity is an EntityConfig resolved by New.
type entity struct {
	name string
	path string
	// rename maps an API key to its contract field name.
	rename map[string]string
	// shadowed holds contract field names taken from another API key: an
	// API key with such a name is ignored.
	shadowed map[string]bool
}

// field returns the contract field name of API key k, and false when the
// key is ignored.
func (e *entity) field(k string) (string, bool) {
	if f, ok := e.rename[k]; ok {
		return f, true
	}
	if e.shadowed[k] {
		return "", false
	}
	return k, true
}

// settings is a Config with defaults applied and validated.
type settings struct {
	base                              *url.URL
	cursorParam, nextField, dataField string
	sinceParam, sizeParam             string
	pageSize, maxRetries              int
	maxBackoff                        time.Duration
	entities                          map[string]*entity
	tokenURL                          *url.URL
}

// check applies defaults to cfg and returns the settings, or every problem.
func check(cfg Config) (*settings, []string) {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	s := &settings{}

	if cfg.BaseURL == "" {
		bad("BaseURL is empty")
	} else if u, why := parseHTTPURL(cfg.BaseURL); why != "" {
		bad("BaseURL %s", why)
	} else {
		u.Path = strings.TrimRight(u.Path, "/")
		u.RawPath = ""
		s.base = u
	}

	if cfg.Token != "" && cfg.OAuth != nil {
		bad("Token and OAuth are both set; use one")
	}
	if cfg.Token != "" && !validToken(cfg.Token) {
		bad("Token contains spaces or control characters (give the token alone, without \"Bearer \")")
	}
	if o := cfg.OAuth; o != nil {
		if o.TokenURL == "" {
			bad("OAuth.TokenURL is empty")
		} else if u, why := parseHTTPURL(o.TokenURL); why != "" {
			bad("OAuth.TokenURL %s", why)
		} else {
			s.tokenURL = u
		}
		if o.ClientID == "" {
			bad("OAuth.ClientID is empty")
		}
		if o.ClientSecret == "" {
			bad("OAuth.ClientSecret is empty")
		}
	}

	switch cfg.Pagination {
	case "", PaginationCursor:
		s.cursorParam, s.nextField = "cursor", "next_cursor"
	case PaginationPageToken:
		s.cursorParam, s.nextField = "page_token", "next_page_token"
	default:
		bad("Pagination %q is neither %q nor %q", cfg.Pagination, PaginationCursor, PaginationPageToken)
	}
	s.dataField, s.sinceParam, s.sizeParam = DefaultDataField, DefaultSinceParam, DefaultPageSizeParam
	override := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	override(&s.cursorParam, cfg.CursorParam)
	override(&s.nextField, cfg.NextField)
	override(&s.dataField, cfg.DataField)
	override(&s.sinceParam, cfg.SinceParam)
	override(&s.sizeParam, cfg.PageSizeParam)
	if s.cursorParam == s.sinceParam || s.cursorParam == s.sizeParam || s.sinceParam == s.sizeParam {
		bad("CursorParam %q, SinceParam %q and PageSizeParam %q must differ", s.cursorParam, s.sinceParam, s.sizeParam)
	}
	if s.dataField == s.nextField {
		bad("DataField and NextField are both %q", s.dataField)
	}

	switch {
	case cfg.PageSize < 0:
		bad("PageSize %d is negative", cfg.PageSize)
	case cfg.PageSize == 0:
		s.pageSize = DefaultPageSize
	default:
		s.pageSize = cfg.PageSize
	}
	switch {
	case cfg.MaxRetries < 0:
		s.maxRetries = 0
	case cfg.MaxRetries == 0:
		s.maxRetries = DefaultMaxRetries
	default:
		s.maxRetries = cfg.MaxRetries
	}
	switch {
	case cfg.MaxBackoff < 0:
		bad("MaxBackoff %s is negative", cfg.MaxBackoff)
	case cfg.MaxBackoff == 0:
		s.maxBackoff = DefaultMaxBackoff
	default:
		s.maxBackoff = cfg.MaxBackoff
	}

	names := make([]string, 0, len(cfg.Entities))
	for name := range cfg.Entities {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if !slices.Contains(entities, name) {
			bad("Entities[%q]: unknown entity (known: %s)", name, strings.Join(entities, ", "))
		}
	}
	s.entities = make(map[string]*entity, len(entities))
	for _, name := range entities {
		ec := cfg.Entities[name]
		e := &entity{name: name, path: "/" + name, rename: map[string]string{}, shadowed: map[string]bool{}}
		if ec.Path != "" {
			if !strings.HasPrefix(ec.Path, "/") || strings.ContainsAny(ec.Path, "?#") {
				bad("Entities[%q].Path %q must start with / and have no query or fragment", name, ec.Path)
			}
			e.path = ec.Path
		}
		fields := make([]string, 0, len(ec.Fields))
		for f := range ec.Fields {
			fields = append(fields, f)
		}
		sort.Strings(fields)
		for _, f := range fields {
			key := ec.Fields[f]
			switch {
			case f == "":
				bad("Entities[%q].Fields has an empty contract field name", name)
				continue
			case key == "":
				bad("Entities[%q].Fields[%q] is empty", name, f)
				continue
			}
			if other, dup := e.rename[key]; dup {
				bad("Entities[%q].Fields: %q and %q both map to API key %q", name, other, f, key)
				continue
			}
			e.rename[key] = f
			if key != f {
				e.shadowed[f] = true
			}
		}
		s.entities[name] = e
	}
	return s, problems
}

// parseHTTPURL parses an absolute http(s) URL without credentials, query or
// fragment. why says what is wrong without repeating the URL, which might
// hold a secret.
func parseHTTPURL(raw string) (u *url.URL, why string) {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return nil, "is not a valid URL"
	case u.Scheme != "http" && u.Scheme != "https", u.Host == "":
		return nil, "is not an absolute http(s) URL"
	case u.User != nil:
		return nil, "must not carry credentials"
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return nil, "must not have a query or a fragment"
	}
	return u, ""
}

// validToken reports whether tok can be sent in an Authorization header as
// is (RFC 6750 b64token characters, printable ASCII without spaces).
func validToken(tok string) bool {
	for i := 0; i < len(tok); i++ {
		if tok[i] <= ' ' || tok[i] >= 0x7f {
			return false
		}
	}
	return true
}
