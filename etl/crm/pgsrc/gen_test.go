package pgsrc_test

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/carelens/carelens/etl/crm/contract"
)

// sizes is how many records of each entity generate makes.
type sizes struct {
	contacts, campaigns, messages, events, surveys, consents int
}

func (n sizes) of(entity string) int {
	return map[string]int{
		"contacts": n.contacts, "campaigns": n.campaigns, "messages": n.messages,
		"message_events": n.events, "survey_responses": n.surveys, "consents": n.consents,
	}[entity]
}

// keyField is each entity's identifying contract field (its table's key in
// pgtest.CRMMapping).
var keyField = map[string]string{
	"contacts": "contact_id", "campaigns": "campaign_id", "messages": "message_id",
	"message_events": "event_id", "survey_responses": "response_id", "consents": "consent_id",
}

// entityOrder is the contract order Pull follows.
var entityOrder = []string{"contacts", "campaigns", "messages", "message_events", "survey_responses", "consents"}

// Awkward text: quotes, commas, newlines, a COPY end marker, non-ASCII,
// surrounding spaces. Pull must return it byte for byte.
var texts = []string{
	"plain", `O'Brien, "Jr"`, "line 1\nline 2\r\nline 3", `\.`, `\N`, "Zoë Ångström 漢字 🙂",
	"  padded  ", "tab\there", ",", `"`, "NULL",
}

// gen makes deterministic contract records whose values are already in the
// text form Pull gives for pgtest.CRMSchema's column types: RFC 3339 UTC
// for timestamptz columns, "YYYY-MM-DD HH:MM:SS" for messages.sent_at (a
// timestamp column), plain decimals, lowercase codes, "" for NULL.
type gen struct {
	r     *rand.Rand
	first int64 // ids start here, so a second batch does not collide
}

func newGen(seed uint64, first int64) *gen {
	return &gen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), first: first}
}

func (g *gen) pick(vals ...string) string { return vals[g.r.IntN(len(vals))] }

// maybe returns v, or "" one time in four.
func (g *gen) maybe(v string) string {
	if g.r.IntN(4) == 0 {
		return ""
	}
	return v
}

func (g *gen) text() string { return texts[g.r.IntN(len(texts))] }

// instant is a time in 2024–2025 with microsecond precision, a whole second
// half the time.
func (g *gen) instant() time.Time {
	t := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(g.r.Int64N(2*365*86400)) * time.Second)
	if g.r.IntN(2) == 0 {
		t = t.Add(time.Duration(g.r.IntN(1_000_000)) * time.Microsecond)
	}
	return t
}

func rfc(t time.Time) string  { return t.UTC().Format(time.RFC3339Nano) }
func wall(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05.999999") }

var (
	channels = []string{"sms", "email", "voice", "portal"}
	purposes = []string{"appointment_reminder", "refill_reminder", "preventive_care", "lab_result", "education", "survey"}
	items    = []string{"nps", "cahps_rating", "cahps_explain", "cahps_listen", "cahps_respect", "cahps_time"}
)

func (g *gen) contactID(i int) string  { return strconv.FormatInt(g.first+int64(i)*3, 10) }
func (g *gen) campaignID(i int) string { return fmt.Sprintf("CMP-%d", g.first+int64(i)) }

// generate returns n records of each entity.
func (g *gen) generate(n sizes) map[string][]contract.Fields {
	out := map[string][]contract.Fields{}
	for i := range n.contacts {
		created := g.instant()
		out["contacts"] = append(out["contacts"], contract.Fields{
			"contact_id": g.contactID(i), "mrn": g.maybe(fmt.Sprintf("MRN%07d", g.r.IntN(1e7))),
			"first_name": g.maybe(g.text()), "last_name": g.maybe(g.text()),
			"email": g.maybe(fmt.Sprintf("p%d@example.org", i)), "phone": g.maybe("+1 555 0100"),
			"preferred_channel": g.maybe(g.pick(channels...)),
			"sms_opt_out":       g.pick("true", "false", ""), "email_opt_out": g.pick("true", "false", ""),
			"voice_opt_out": g.pick("true", "false", ""), "portal_enrolled": g.pick("true", "false", ""),
			"language":   g.pick("en", "es", "fr-CA", ""),
			"created_at": g.maybe(rfc(created)), "updated_at": rfc(created.Add(time.Duration(g.r.IntN(86400)) * time.Second)),
		})
	}
	for i := range n.campaigns {
		start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, g.r.IntN(700))
		out["campaigns"] = append(out["campaigns"], contract.Fields{
			"campaign_id": g.campaignID(i), "name": g.text(), "purpose": g.pick(purposes...),
			"channel": g.maybe(g.pick(channels...)), "start_date": start.Format(time.DateOnly),
			"end_date": g.maybe(start.AddDate(0, 1, 0).Format(time.DateOnly)),
		})
	}
	for i := range n.messages {
		sent := g.instant()
		later := func() string { return g.maybe(rfc(sent.Add(time.Duration(1+g.r.IntN(3600)) * time.Second))) }
		campaign := ""
		if n.campaigns > 0 {
			campaign = g.maybe(g.campaignID(g.r.IntN(n.campaigns)))
		}
		out["messages"] = append(out["messages"], contract.Fields{
			"message_id": strconv.FormatInt(g.first+int64(i), 10), "contact_id": g.contactID(g.r.IntN(max(n.contacts, 1))),
			"campaign_id": campaign, "purpose": g.pick(purposes...), "channel": g.pick(channels...),
			"body": g.maybe(g.text()), "sent_at": wall(sent),
			"delivered_at": later(), "opened_at": later(), "replied_at": later(), "failed_at": later(),
			"failure_reason": g.maybe(g.text()),
		})
	}
	for i := range n.events {
		out["message_events"] = append(out["message_events"], contract.Fields{
			"event_id": strconv.FormatInt(g.first+int64(i), 10), "message_id": strconv.FormatInt(g.first+int64(g.r.IntN(max(n.messages, 1))), 10),
			"event": g.pick("delivered", "opened", "replied", "failed"), "occurred_at": rfc(g.instant()),
		})
	}
	for i := range n.surveys {
		item := g.pick(items...)
		answer := g.r.IntN(11)
		if item != "nps" && item != "cahps_rating" {
			answer = 1 + g.r.IntN(4)
		}
		out["survey_responses"] = append(out["survey_responses"], contract.Fields{
			"response_id": strconv.FormatInt(g.first+int64(i), 10), "contact_id": g.contactID(g.r.IntN(max(n.contacts, 1))),
			"survey_id": g.pick("nps-2025", "cahps-cg"), "campaign_id": "", "item": item, "answer": strconv.Itoa(answer),
			"comment": g.maybe(g.text()), "answered_at": rfc(g.instant()),
		})
	}
	for i := range n.consents {
		out["consents"] = append(out["consents"], contract.Fields{
			"consent_id": strconv.FormatInt(g.first+int64(i), 10), "contact_id": g.contactID(g.r.IntN(max(n.contacts, 1))),
			"channel": g.pick("sms", "email", "voice", "portal", "all"), "status": g.pick("opt_in", "opt_out"),
			"effective_at": rfc(g.instant()),
		})
	}
	return out
}
