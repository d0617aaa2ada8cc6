package synth

import (
	"cmp"
	"slices"
)

// consentRec is one row of consents.csv.
type consentRec struct {
	channel string // sms, email, voice or all
	optIn   bool
	at      int64
}

// consentChanges decides, from the feed stream, whether the contact
// withdraws consent to every channel or revokes an sms opt-out later, and
// sets its flags so that they agree with its consent records. It runs before
// any message is sent, because the flags decide which channels are used.
func (g *gen) consentChanges(ct *contact) {
	o := &g.w.p.Outreach
	ct.ownOptOut = ct.optOut
	// Both draws are always made, so that one decision does not shift the
	// stream for the other.
	withdraw := g.feed.Float64() < o.ConsentWithdrawAll
	reoptin := g.feed.Float64() < o.ConsentReoptin
	if withdraw {
		ct.withdrawn = true
		ct.optOut = [3]bool{true, true, true}
	}
	// The opt-out and the opt-in need two distinct seconds in [created,
	// updated]; the latest state is the opt-in, agreeing with the clear flag.
	ct.reoptin = reoptin && !ct.optOut[chSMS] && ct.updated > ct.created
}

// feedBetween returns a uniform time in [a, b] from the feed stream.
func (g *gen) feedBetween(a, b int64) int64 {
	if b <= a {
		return a
	}
	return a + g.feed.Int64N(b-a+1)
}

// emitConsents writes the consent records of the patient's contacts. It runs
// after the messages are simulated and sorted (emitMessages): a revoked sms
// opt-out is placed where it stops no message.
func (g *gen) emitConsents(c *chunk) {
	for who, ct := range g.contacts {
		if ct != nil {
			g.contactConsents(c, who, ct)
		}
	}
}

// contactConsents writes the consent records of contact who, in order of
// their effective time, all between its created and updated times: an
// opt-out per channel the contact opted out of, an `all` opt-out at the
// updated time for a withdrawal, and an sms opt-out followed by an opt-in for
// a revoked opt-out, the opt-in no later than the next sms message to the
// contact. For every channel the latest record therefore agrees with the
// contact's flag, a contact without records has no flag set, and no message
// is sent on a channel while the records say the contact opted out of it.
func (g *gen) contactConsents(c *chunk, who int, ct *contact) {
	recs := g.consents[:0]
	for ch, out := range ct.ownOptOut {
		if out {
			recs = append(recs, consentRec{channels[ch], false, g.feedBetween(ct.created, ct.updated)})
		}
	}
	if ct.withdrawn {
		// The withdrawal is what last updated the contact record: at the
		// record's own time the consent record decides (the contract), so
		// the portal, which has no flag on the contact, is withdrawn too.
		recs = append(recs, consentRec{"all", false, ct.updated})
	}
	if ct.reoptin {
		out := g.feedBetween(ct.created, ct.updated-1)
		next := ct.updated // the opt-in's latest time
		for i := range g.msgs {
			if m := &g.msgs[i]; m.contact == who && m.channel == chSMS && m.sent >= out {
				next = min(next, m.sent)
				break
			}
		}
		if next > out { // else an sms message at that very second: no room
			recs = append(recs,
				consentRec{channels[chSMS], false, out},
				consentRec{channels[chSMS], true, g.feedBetween(out+1, next)})
		}
	}
	slices.SortStableFunc(recs, func(a, b consentRec) int { return cmp.Compare(a.at, b.at) })
	b := c.buf[fConsents]
	for _, r := range recs {
		g.consentSeq++
		b = append(b, 'K')
		b = appendInt(b, int64(g.idx+1))
		b = append(b, '-')
		b = appendInt(b, int64(g.consentSeq))
		b = append(b, ',')
		b = append(b, ct.id...)
		b = append(b, ',')
		b = append(b, r.channel...)
		if r.optIn {
			b = append(b, ",opt_in,"...)
		} else {
			b = append(b, ",opt_out,"...)
		}
		b = appendTS(b, r.at)
		b = append(b, '\n')
	}
	c.buf[fConsents] = b
	c.lines[fConsents] += len(recs)
	g.consents = recs
}
