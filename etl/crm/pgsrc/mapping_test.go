package pgsrc_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/carelens/carelens/etl/crm/pgsrc"
	"github.com/carelens/carelens/internal/pgtest"
)

// TestParseMapping checks the file alone: each bad mapping gives every one
// of its problems, sorted, and nothing else.
func TestParseMapping(t *testing.T) {
	m, err := pgsrc.ParseMapping(pgtest.CRMMapping())
	if err != nil {
		t.Fatalf("pgtest.CRMMapping: %v", err)
	}
	if got := m.Names(); !slices.Equal(got, entityOrder) {
		t.Errorf("Names() = %v, want %v", got, entityOrder)
	}
	if s, tb := m.Entities["contacts"].SplitTable(); s != "crm" || tb != "person" {
		t.Errorf("SplitTable = %s, %s", s, tb)
	}
	if s, tb := (pgsrc.Entity{Table: "person"}).SplitTable(); s != "public" || tb != "person" {
		t.Errorf("SplitTable of a bare name = %s, %s; want public, person", s, tb)
	}

	cases := []struct {
		name, json string
		want       []string
	}{
		{"not JSON", `{"entities": `, []string{"not a JSON object: unexpected end of JSON input"}},
		{"array", `[]`, []string{"not a JSON object: json: cannot unmarshal array into Go value of type map[string]json.RawMessage"}},
		{"empty", `{}`, []string{"entities: missing"}},
		{"nothing mapped", `{"entities": {}, "version": 2}`, []string{"entities: no entity mapped", "version: unknown key"}},
		{"entity not an object", `{"entities": {"contacts": []}}`, []string{"entities.contacts: want a JSON object"}},
		{"everything wrong", `{"entities": {
			"contact": {},
			"contacts": {"table": "a.b.c", "key": 1, "fields": {"mrn": "", "shoe_size": "x"}, "colour": "red"},
			"campaigns": {"table": "crm.campaign", "key": "code", "updated_at": "updated_at", "fields": []},
			"consents": {"table": "crm.consent_log", "key": "id", "updated_at": "u",
				"fields": {"consent_id": "id", "contact_id": "p", "channel": "c", "status": "s"}}}}`,
			[]string{
				"entities.campaigns.fields.campaign_id: required field not mapped",
				"entities.campaigns.fields.name: required field not mapped",
				"entities.campaigns.fields.purpose: required field not mapped",
				"entities.campaigns.fields: want a JSON object",
				"entities.consents.fields.effective_at: required field not mapped",
				"entities.contact: unknown entity (known: contacts, campaigns, messages, message_events, survey_responses, consents)",
				"entities.contacts.colour: unknown key",
				"entities.contacts.fields.contact_id: required field not mapped",
				"entities.contacts.fields.mrn: empty column name",
				"entities.contacts.fields.shoe_size: not a field of the contacts contract",
				"entities.contacts.key: missing",
				"entities.contacts.key: want a string",
				"entities.contacts.table: want \"schema.table\" or \"table\"",
				"entities.contacts.updated_at: missing",
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := pgsrc.ParseMapping([]byte(c.json))
			var me *pgsrc.MappingError
			if !errors.As(err, &me) {
				t.Fatalf("err = %v, want a *MappingError", err)
			}
			if !slices.Equal(me.Problems, c.want) {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(me.Problems, "\n"), strings.Join(c.want, "\n"))
			}
			if lines := strings.Split(err.Error(), "\n"); len(lines) != len(c.want) || !strings.HasPrefix(lines[0], "mapping: ") {
				t.Errorf("Error() = %q: want one \"mapping: \" line per problem", err)
			}
		})
	}
}

// TestOpenMappingProblems: Open checks the mapping against the schema and
// reports every problem together, those of the file included.
func TestOpenMappingProblems(t *testing.T) {
	dsn := pgtest.Shared(t).CreateCRM(t, "mapping")
	exec(t, dsn, `CREATE TABLE crm.nokey (id bigint, changed integer, note text)`)
	exec(t, dsn, `CREATE TABLE crm.nullkey (id bigint UNIQUE, updated_at timestamptz)`)
	exec(t, dsn, `CREATE TABLE crm.partialkey (id bigint NOT NULL, updated_at timestamptz)`)
	exec(t, dsn, `CREATE UNIQUE INDEX ON crm.partialkey (id) WHERE id > 0`)
	exec(t, dsn, `CREATE TABLE crm.pairkey (a bigint, b bigint, updated_at timestamptz, PRIMARY KEY (a, b))`)
	mapping := `{"entities": {
		"contact": {"table": "crm.person"},
		"contacts": {"table": "crm.person", "key": "person_id", "updated_at": "updated_at",
			"fields": {"contact_id": "person_id", "mrn": "chart_no_typo", "phone": "mobile", "nickname": "given_name"}},
		"campaigns": {"table": "crm.campaigns", "key": "code", "updated_at": "updated_at",
			"fields": {"campaign_id": "code", "name": "title", "purpose": "goal"}},
		"messages": {"table": "crm.nokey", "key": "id", "updated_at": "changed",
			"fields": {"message_id": "id", "contact_id": "id", "purpose": "note", "channel": "note", "sent_at": "note"}},
		"message_events": {"table": "crm.nullkey", "key": "id", "updated_at": "updated_at",
			"fields": {"event_id": "id", "message_id": "id", "event": "id", "occurred_at": "updated_at"}},
		"survey_responses": {"table": "crm.partialkey", "key": "id", "updated_at": "updated_at",
			"fields": {"response_id": "id", "contact_id": "id", "survey_id": "id", "item": "id", "answer": "id", "answered_at": "updated_at"}},
		"consents": {"table": "crm.consent_log", "key": "consent_log_id", "updated_at": "updated_at", "where": "scope = ",
			"fields": {"consent_id": "consent_log_id", "contact_id": "person_id", "channel": "scope", "status": "status", "effective_at": "effective_ts"}}
	}}`
	want := []string{
		"entities.campaigns.table: table crm.campaigns does not exist",
		`entities.consents.where: syntax error at or near ")" (SQLSTATE 42601)`,
		"entities.contact: unknown entity (known: contacts, campaigns, messages, message_events, survey_responses, consents)",
		"entities.contacts.fields.mrn: column crm.person.chart_no_typo does not exist",
		"entities.contacts.fields.nickname: not a field of the contacts contract",
		"entities.message_events.key: column crm.nullkey.id is nullable (the key must be NOT NULL)",
		"entities.messages.key: column crm.nokey.id is not unique (needs a primary key or a unique index on it alone)",
		"entities.messages.key: column crm.nokey.id is nullable (the key must be NOT NULL)",
		"entities.messages.updated_at: column crm.nokey.changed has type integer, want timestamptz or timestamp",
		"entities.survey_responses.key: column crm.partialkey.id is not unique (needs a primary key or a unique index on it alone)",
	}
	_, err := pgsrc.Open(context.Background(), dsn, []byte(mapping))
	var me *pgsrc.MappingError
	if !errors.As(err, &me) {
		t.Fatalf("Open: err = %v, want a *MappingError", err)
	}
	if !slices.Equal(me.Problems, want) {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(me.Problems, "\n"), strings.Join(want, "\n"))
	}

	// A key that is one column of a composite primary key is not unique;
	// a where with a parameter is refused.
	for _, c := range []struct{ mapping, want string }{
		{`{"entities": {"contacts": {"table": "crm.pairkey", "key": "a", "updated_at": "updated_at", "fields": {"contact_id": "a"}}}}`,
			"mapping: entities.contacts.key: column crm.pairkey.a is not unique (needs a primary key or a unique index on it alone)"},
		{`{"entities": {"contacts": {"table": "crm.person", "key": "person_id", "updated_at": "updated_at", "where": "person_id > $1", "fields": {"contact_id": "person_id"}}}}`,
			"mapping: entities.contacts.where: must not use parameters"},
		{`{"entities": {"contacts": {"table": "person", "key": "person_id", "updated_at": "updated_at", "fields": {"contact_id": "person_id"}}}}`,
			"mapping: entities.contacts.table: table public.person does not exist"},
	} {
		if _, err := pgsrc.Open(context.Background(), dsn, []byte(c.mapping)); err == nil || err.Error() != c.want {
			t.Errorf("Open: err = %v, want %q", err, c.want)
		}
	}
}
