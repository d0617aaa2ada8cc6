package rest_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/carelens/carelens/etl/crm/rest"
)

func TestNewValidation(t *testing.T) {
	oauth := &rest.OAuth{TokenURL: "https://auth.example.org/token", ClientID: "id", ClientSecret: "secret"}
	for _, tc := range []struct {
		name string
		cfg  rest.Config
		want []string // every problem, in order
	}{
		{"empty", rest.Config{}, []string{"BaseURL is empty"}},
		{"scheme", rest.Config{BaseURL: "ftp://crm.example.org"}, []string{"BaseURL is not an absolute http(s) URL"}},
		{"relative", rest.Config{BaseURL: "/api"}, []string{"BaseURL is not an absolute http(s) URL"}},
		{"credentials", rest.Config{BaseURL: "https://u:hunter2@crm.example.org"}, []string{"BaseURL must not carry credentials"}},
		{"query", rest.Config{BaseURL: "https://crm.example.org/api?key=hunter2"}, []string{"BaseURL must not have a query or a fragment"}},
		{"two auths", rest.Config{BaseURL: "https://crm.example.org", Token: "t", OAuth: oauth},
			[]string{"Token and OAuth are both set; use one"}},
		{"token characters", rest.Config{BaseURL: "https://crm.example.org", Token: "Bearer abc"},
			[]string{`Token contains spaces or control characters (give the token alone, without "Bearer ")`}},
		{"empty OAuth", rest.Config{BaseURL: "https://crm.example.org", OAuth: &rest.OAuth{}},
			[]string{"OAuth.TokenURL is empty", "OAuth.ClientID is empty", "OAuth.ClientSecret is empty"}},
		{"OAuth URL", rest.Config{BaseURL: "https://crm.example.org", OAuth: &rest.OAuth{TokenURL: "auth/token", ClientID: "a", ClientSecret: "b"}},
			[]string{"OAuth.TokenURL is not an absolute http(s) URL"}},
		{"names", rest.Config{BaseURL: "https://crm.example.org", Pagination: "offset", CursorParam: "limit", DataField: "next_cursor"},
			[]string{
				`Pagination "offset" is neither "cursor" nor "page_token"`,
				`CursorParam "limit", SinceParam "updated_since" and PageSizeParam "limit" must differ`,
			}},
		{"data is next", rest.Config{BaseURL: "https://crm.example.org", Pagination: "page_token", DataField: "next_page_token"},
			[]string{`DataField and NextField are both "next_page_token"`}},
		{"numbers", rest.Config{BaseURL: "https://crm.example.org", PageSize: -1, MaxBackoff: -time.Second},
			[]string{"PageSize -1 is negative", "MaxBackoff -1s is negative"}},
		{"entities", rest.Config{BaseURL: "https://crm.example.org", Entities: map[string]rest.EntityConfig{
			"patients": {},
			"contacts": {Path: "contacts", Fields: map[string]string{"contact_id": "id", "mrn": "id", "": "x", "phone": ""}},
			"messages": {Path: "/messages?all=1"},
		}}, []string{
			`Entities["patients"]: unknown entity (known: contacts, campaigns, messages, message_events, survey_responses, consents)`,
			`Entities["contacts"].Path "contacts" must start with / and have no query or fragment`,
			`Entities["contacts"].Fields has an empty contract field name`,
			`Entities["contacts"].Fields: "contact_id" and "mrn" both map to API key "id"`,
			`Entities["contacts"].Fields["phone"] is empty`,
			`Entities["messages"].Path "/messages?all=1" must start with / and have no query or fragment`,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := rest.New(tc.cfg)
			var ce *rest.ConfigError
			if c != nil || !errors.Is(err, rest.ErrInvalidConfig) || !errors.As(err, &ce) {
				t.Fatalf("New = %v, %v; want a *ConfigError", c, err)
			}
			if !slices.Equal(ce.Problems, tc.want) {
				t.Fatalf("problems\n got  %q\n want %q", ce.Problems, tc.want)
			}
			if want := "invalid CRM REST config: " + strings.Join(tc.want, "; "); err.Error() != want {
				t.Errorf("message %q, want %q", err, want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("the message repeats a secret: %v", err)
			}
		})
	}

	for _, cfg := range []rest.Config{
		{BaseURL: "http://localhost:8080"},
		{BaseURL: "https://crm.example.org/api/v2/", Token: "abc.DEF-123", MaxRetries: -1},
		{BaseURL: "https://crm.example.org", OAuth: oauth, Pagination: "page_token", PageSize: 1000,
			Entities: map[string]rest.EntityConfig{"consents": {Path: "/v3/consent-records", Fields: map[string]string{"a": "b", "b": "a"}}}},
	} {
		if _, err := rest.New(cfg); err != nil {
			t.Errorf("New(%+v): %v", cfg, err)
		}
	}
}
