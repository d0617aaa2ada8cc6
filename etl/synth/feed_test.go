package synth

import (
	"math"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"
)

// Tests of how the CRM export reports what happened: delivery events (late,
// out of order, duplicated, resent) and consent records.

var stateCols = [4]string{"delivered_at", "opened_at", "replied_at", "failed_at"}

// eventKinds maps message_events' event codes to the state they report.
var eventKinds = map[string]int{"delivered": evDelivered, "opened": evOpened, "replied": evReplied, "failed": evFailed}

// msgRow is a message as the ETL sees it after merging its record and its
// events: each state's time is the earliest any record gave.
type msgRow struct {
	row      map[string]string // the messages.csv row
	sent     time.Time
	embedded [4]time.Time // from the message's own columns
	fromEv   [4]time.Time // the earliest event of each kind
	nEvents  int          // event rows, duplicates and resends included
	at       [4]time.Time // the state times, zero = not reached
}

func parseTS(t testing.TB, s string) time.Time {
	t.Helper()
	if s == "" {
		return time.Time{}
	}
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatalf("bad timestamp %q", s)
	}
	return v
}

// readMessages reads messages.csv and message_events.csv of dir and merges
// them; it fails the test on an event of an unknown message or kind. It also
// returns the event rows in file order.
func readMessages(t testing.TB, dir string) (msgs []*msgRow, byID map[string]*msgRow, events []map[string]string) {
	t.Helper()
	_, rows, _ := readCSV(t, filepath.Join(dir, "crm/messages.csv"))
	byID = make(map[string]*msgRow, len(rows))
	for _, r := range rows {
		m := &msgRow{row: r, sent: parseTS(t, r["sent_at"])}
		for k, col := range stateCols {
			m.embedded[k] = parseTS(t, r[col])
		}
		msgs = append(msgs, m)
		byID[r["message_id"]] = m
	}
	_, events, _ = readCSV(t, filepath.Join(dir, "crm/message_events.csv"))
	for _, e := range events {
		m, ok := byID[e["message_id"]]
		kind, known := eventKinds[e["event"]]
		if !ok || !known {
			t.Fatalf("event %v: unknown message or event", e)
		}
		at := parseTS(t, e["occurred_at"])
		if m.fromEv[kind].IsZero() || at.Before(m.fromEv[kind]) {
			m.fromEv[kind] = at
		}
		m.nEvents++
	}
	for _, m := range msgs {
		for k := range m.at {
			m.at[k] = m.embedded[k]
			if e := m.fromEv[k]; !e.IsZero() && (m.at[k].IsZero() || e.Before(m.at[k])) {
				m.at[k] = e
			}
		}
	}
	return msgs, byID, events
}

// trueStates re-simulates the patients of opt and returns each message's
// state times as the model drew them (Unix seconds, 0 = not reached), by
// message id.
func trueStates(t *testing.T, opt Options) map[string][4]int64 {
	t.Helper()
	opt.OutDir = "unused"
	w, err := newWorld(opt)
	if err != nil {
		t.Fatal(err)
	}
	g, c := newGen(w), new(chunk)
	out := map[string][4]int64{}
	for i := range opt.Patients {
		c.reset()
		g.patient(c, i)
		for seq, m := range g.msgs {
			out["M"+strconv.Itoa(i+1)+"-"+strconv.Itoa(seq+1)] = [4]int64{m.delivered, m.opened, m.replied, m.failed}
		}
	}
	return out
}

// within reports whether got is within 4 standard errors of the rate p over
// n trials.
func within(got, p float64, n int) bool {
	return math.Abs(got-p) <= 4*math.Sqrt(p*(1-p)/float64(n))
}

// Each message's states are given exactly once: by its own columns or by
// events, never both, and the earliest event of each kind is the state's
// true time, whatever duplicates say.
func TestEventsAndColumnsGiveTrueStates(t *testing.T) {
	msgs, _, events := readMessages(t, fixtureDir)
	truth := trueStates(t, fixtureOptions())
	if len(truth) != len(msgs) {
		t.Fatalf("%d messages written, the model sent %d", len(msgs), len(truth))
	}
	export := date("2025-12-31").Add(24*time.Hour - time.Second)
	var viaEvents, viaColumns, withStates int
	for _, m := range msgs {
		id := m.row["message_id"]
		want, ok := truth[id]
		if !ok {
			t.Fatalf("message %s was not sent by the model", id)
		}
		hasEmbedded := slices.ContainsFunc(m.embedded[:], func(v time.Time) bool { return !v.IsZero() })
		if hasEmbedded && m.nEvents > 0 {
			t.Fatalf("message %s has state columns and %d events", id, m.nEvents)
		}
		for k := range want {
			var got int64
			if !m.at[k].IsZero() {
				got = m.at[k].Unix()
			}
			if got != want[k] {
				t.Fatalf("message %s: %s %v, the model's time %v", id, stateCols[k], m.at[k], time.Unix(want[k], 0).UTC())
			}
			if got != 0 && (m.at[k].Before(m.sent) || m.at[k].After(export)) {
				t.Fatalf("message %s: %s %v outside sent..export", id, stateCols[k], m.at[k])
			}
		}
		switch {
		case m.nEvents > 0:
			viaEvents++
			withStates++
		case hasEmbedded:
			viaColumns++
			withStates++
		}
	}
	for _, e := range events {
		if at := parseTS(t, e["occurred_at"]); at.After(export) {
			t.Fatalf("event %s after the export: %v", e["event_id"], at)
		}
	}
	share := float64(viaEvents) / float64(withStates)
	t.Logf("%d messages with a later state: %d by events (%.3f), %d by columns", withStates, viaEvents, share, viaColumns)
	if p := fixtureTruth.Params.Outreach.EventShare; !within(share, p, withStates) {
		t.Errorf("%.3f of messages report their states by events, want about %.2f", share, p)
	}
}

var (
	eventIDPattern   = regexp.MustCompile(`^E([0-9]+)-[0-9]+$`)
	messageIDPattern = regexp.MustCompile(`^M([0-9]+)-[0-9]+$`)
	consentIDPattern = regexp.MustCompile(`^K([0-9]+)-[0-9]+$`)
)

// Event ids name one event: a resent row repeats its id and content; a
// repeated notification of a state has a new id and comes 1–600 s later.
// Both happen at about their configured rates.
func TestEventDuplicatesAndResends(t *testing.T) {
	_, _, events := readMessages(t, fixtureDir)
	byID := map[string]map[string]string{}
	copies := map[string]int{}
	type state struct{ msg, event string }
	idsOf := map[state][]string{}
	for _, e := range events {
		id := e["event_id"]
		em, mm := eventIDPattern.FindStringSubmatch(id), messageIDPattern.FindStringSubmatch(e["message_id"])
		if em == nil || mm == nil || em[1] != mm[1] {
			t.Fatalf("event %v: id not E<patient>-<n> of the message's patient", e)
		}
		if first, seen := byID[id]; seen {
			if first["message_id"] != e["message_id"] || first["event"] != e["event"] || first["occurred_at"] != e["occurred_at"] {
				t.Fatalf("event id %s names two events: %v and %v", id, first, e)
			}
			copies[id]++
			continue
		}
		byID[id] = e
		s := state{e["message_id"], e["event"]}
		idsOf[s] = append(idsOf[s], id)
	}
	resent := 0
	for id, n := range copies {
		if n != 1 {
			t.Errorf("event %s written %d times", id, n+1)
		}
		resent++
	}
	duplicated := 0
	for s, ids := range idsOf {
		switch len(ids) {
		case 1:
			continue
		case 2:
		default:
			t.Fatalf("%v reported by %d events", s, len(ids))
		}
		duplicated++
		a, b := parseTS(t, byID[ids[0]]["occurred_at"]), parseTS(t, byID[ids[1]]["occurred_at"])
		if d := b.Sub(a).Abs(); d < time.Second || d > 600*time.Second {
			t.Errorf("%v: repeated %v after the first, want 1–600 s", s, d)
		}
	}
	o := fixtureTruth.Params.Outreach
	dupRate, resendRate := float64(duplicated)/float64(len(idsOf)), float64(resent)/float64(len(byID))
	t.Logf("%d states by %d events in %d rows: %.4f repeated, %.4f of events resent", len(idsOf), len(byID), len(events), dupRate, resendRate)
	if len(events) != len(byID)+resent || len(byID) != len(idsOf)+duplicated {
		t.Errorf("rows %d, events %d, states %d do not add up", len(events), len(byID), len(idsOf))
	}
	if duplicated == 0 || !within(dupRate, o.EventDuplicate, len(idsOf)) {
		t.Errorf("%.4f of states repeated, want about %.3f", dupRate, o.EventDuplicate)
	}
	if resent == 0 || !within(resendRate, o.EventResend, len(byID)) {
		t.Errorf("%.4f of events resent, want about %.3f", resendRate, o.EventResend)
	}
}

// The event file is not in time order, and a message's events come in any
// order, but each patient's events stay together, in patient order.
func TestEventsOutOfOrder(t *testing.T) {
	_, _, events := readMessages(t, fixtureDir)
	var pairs, backwards, lastPatient int
	var lastAt time.Time
	laterStateFirst := 0
	seen := map[string][4]bool{} // message → event kinds seen so far in the file
	for i, e := range events {
		p, _ := strconv.Atoi(eventIDPattern.FindStringSubmatch(e["event_id"])[1])
		at := parseTS(t, e["occurred_at"])
		if p < lastPatient {
			t.Fatalf("row %d: patient %d's event after patient %d's", i+2, p, lastPatient)
		}
		if i > 0 && p == lastPatient {
			pairs++
			if at.Before(lastAt) {
				backwards++
			}
		}
		lastPatient, lastAt = p, at
		kind := eventKinds[e["event"]]
		s := seen[e["message_id"]]
		if kind == evDelivered && (s[evOpened] || s[evReplied]) {
			laterStateFirst++
		}
		s[kind] = true
		seen[e["message_id"]] = s
	}
	t.Logf("%d of %d consecutive rows of a patient go back in time; %d deliveries after a later state of the message", backwards, pairs, laterStateFirst)
	if backwards < pairs/4 || laterStateFirst == 0 {
		t.Errorf("events look ordered: %d of %d steps back in time, %d deliveries after a later state", backwards, pairs, laterStateFirst)
	}
}

// For every contact and channel the consent record with the latest
// effective time (for the channel or for all) agrees with the contact's
// flag; contacts without records have no flag set; records lie between the
// contact's created and updated times; and the model never messages a
// channel a contact opted out of, nor a contact that withdrew all consent,
// nor a channel while the records in effect at the time say opted out.
func TestConsentsAgreeWithContacts(t *testing.T) {
	type contactRow struct {
		flags            [3]bool
		created, updated time.Time
		recs             []map[string]string
	}
	_, crows, _ := readCSV(t, filepath.Join(fixtureDir, "crm/contacts.csv"))
	contacts := map[string]*contactRow{}
	for _, r := range crows {
		c := &contactRow{created: parseTS(t, r["created_at"]), updated: parseTS(t, r["updated_at"])}
		for ch := range c.flags {
			c.flags[ch] = r[channels[ch]+"_opt_out"] == "true"
		}
		contacts[r["contact_id"]] = c
	}
	_, consents, _ := readCSV(t, filepath.Join(fixtureDir, "crm/consents.csv"))
	ids := map[string]bool{}
	for _, k := range consents {
		c, ok := contacts[k["contact_id"]]
		if !ok || ids[k["consent_id"]] || consentIDPattern.FindStringSubmatch(k["consent_id"]) == nil {
			t.Fatalf("consent %v: unknown contact, or id not unique K<patient>-<n>", k)
		}
		ids[k["consent_id"]] = true
		if !slices.Contains([]string{"sms", "email", "voice", "portal", "all"}, k["channel"]) ||
			(k["status"] != "opt_in" && k["status"] != "opt_out") {
			t.Fatalf("consent %v: bad channel or status", k)
		}
		if at := parseTS(t, k["effective_at"]); at.Before(c.created) || at.After(c.updated) {
			t.Fatalf("consent %v: effective outside the contact's %v..%v", k, c.created, c.updated)
		}
		c.recs = append(c.recs, k)
	}

	withdrawn := map[string]bool{}
	var eligible, reoptin int
	for id, c := range contacts {
		if len(c.recs) == 0 && c.flags != [3]bool{} {
			t.Fatalf("contact %s has opt-out flags %v and no consent record", id, c.flags)
		}
		if !c.flags[chSMS] {
			eligible++
		}
		for _, k := range c.recs {
			switch {
			case k["channel"] == "all":
				withdrawn[id] = true
			case k["channel"] == "sms" && k["status"] == "opt_in":
				reoptin++
			}
		}
		for ch, flag := range c.flags {
			if latest := latestConsent(t, c.recs, channels[ch], time.Time{}); (latest["status"] == "opt_out") != flag {
				t.Fatalf("contact %s: %s_opt_out %v, latest consent %v", id, channels[ch], flag, latest)
			}
		}
	}
	o := fixtureTruth.Params.Outreach
	t.Logf("%d contacts, %d consent records, %d withdrew all, %d of %d re-opted in to sms", len(contacts), len(consents), len(withdrawn), reoptin, eligible)
	if len(withdrawn) == 0 || !within(float64(len(withdrawn))/float64(len(contacts)), o.ConsentWithdrawAll, len(contacts)) {
		t.Errorf("%d of %d contacts withdrew all consent, want about %.3f", len(withdrawn), len(contacts), o.ConsentWithdrawAll)
	}
	if reoptin == 0 || !within(float64(reoptin)/float64(eligible), o.ConsentReoptin, eligible) {
		t.Errorf("%d of %d contacts re-opted in to sms, want about %.3f", reoptin, eligible, o.ConsentReoptin)
	}

	_, msgs, _ := readCSV(t, filepath.Join(fixtureDir, "crm/messages.csv"))
	var smsToReoptin int
	for _, m := range msgs {
		id, c := m["contact_id"], contacts[m["contact_id"]]
		if withdrawn[id] {
			t.Fatalf("message %s to contact %s, who withdrew all consent", m["message_id"], id)
		}
		if ch := slices.Index(channels, m["channel"]); ch < chPortal && c.flags[ch] {
			t.Fatalf("message %s on %s to contact %s, who opted out of it", m["message_id"], m["channel"], id)
		}
		// nor while the consent records said so at the time
		if k := latestConsent(t, c.recs, m["channel"], parseTS(t, m["sent_at"])); k["status"] == "opt_out" {
			t.Fatalf("message %s on %s sent while consent %v was in effect", m["message_id"], m["channel"], k)
		}
		if m["channel"] == "sms" && slices.ContainsFunc(c.recs, func(k map[string]string) bool { return k["status"] == "opt_in" }) {
			smsToReoptin++
		}
	}
	if smsToReoptin == 0 {
		t.Error("no sms message to a contact who re-opted in: the check above proves nothing")
	}
}

// latestConsent returns the consent record that decides channel ch among
// recs, considering those in effect at until (all when until is zero): the
// latest for the channel or for all; at equal times an opt-out wins, as in
// the contract. It returns nil when none applies.
func latestConsent(t *testing.T, recs []map[string]string, ch string, until time.Time) map[string]string {
	t.Helper()
	var latest map[string]string
	var latestAt time.Time
	for _, k := range recs {
		if k["channel"] != ch && k["channel"] != "all" {
			continue
		}
		at := parseTS(t, k["effective_at"])
		if !until.IsZero() && at.After(until) {
			continue
		}
		if latest == nil || at.After(latestAt) || (at.Equal(latestAt) && k["status"] == "opt_out") {
			latest, latestAt = k, at
		}
	}
	return latest
}
