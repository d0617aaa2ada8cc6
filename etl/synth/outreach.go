package synth

import (
	"cmp"
	"math"
	"slices"
)

// channel timing: delivery, open and reply delays in seconds, [min, max).
var (
	deliverDelay = [4][2]int64{{2, 30}, {5, 120}, {10, 60}, {1, 5}}
	openDelay    = [4][2]int64{{60, 3 * 3600}, {600, 48 * 3600}, {5, 20}, {3600, 72 * 3600}}
	replyDelay   = [4][2]int64{{30, 1800}, {300, 24 * 3600}, {20, 90}, {300, 7200}}
)

// send records a message to contact who (0 = the patient's, 1 = the
// unmatched one) sent at t on the contact's channel (want, if allowed) and
// simulates its delivery. It returns the message's index in g.msgs, or -1
// when nothing was sent: no contact, no usable channel, t outside the window
// or after death.
func (g *gen) send(who, purpose int, campaign string, t int64, want int) int {
	w := g.w
	ct := g.contacts[who]
	if ct == nil || t < w.from || t < ct.created || t > w.export || (who == 0 && !g.alive(t)) {
		return -1
	}
	ch := ct.channel(want)
	if ch < 0 {
		return -1
	}
	if purpose == pAppt {
		campaign = apptCampaigns[ch]
	}
	m := message{contact: who, purpose: purpose, channel: ch, campaign: campaign, sent: t}
	o := &w.p.Outreach
	if g.chance(o.DeliveryProb[channels[ch]]) {
		m.delivered = t + g.between(deliverDelay[ch][0], deliverDelay[ch][1])
		if g.chance(o.OpenProb[channels[ch]]) {
			m.opened = m.delivered + g.between(openDelay[ch][0], openDelay[ch][1])
			if g.chance(o.ReplyProb[channels[ch]]) {
				m.replied = m.opened + g.between(replyDelay[ch][0], replyDelay[ch][1])
			}
		}
	} else {
		m.failed = t + g.between(5, 300)
		m.reason = g.pick(failureReasons[ch])
	}
	// The export shows the state reached by the export time.
	if m.delivered > w.export {
		m.delivered = 0
	}
	if m.opened > w.export || m.delivered == 0 {
		m.opened = 0
	}
	if m.replied > w.export || m.opened == 0 {
		m.replied = 0
	}
	if m.failed > w.export {
		m.failed, m.reason = 0, ""
	}
	g.msgs = append(g.msgs, m)
	return len(g.msgs) - 1
}

var apptCampaigns = [4]string{"CMP-APPT-SMS", "CMP-APPT-EMAIL", "CMP-APPT-VOICE", "CMP-APPT-PORTAL"}

// campaignList returns the fixed campaigns for a window: one per purpose,
// appointment reminders per channel, and a flu campaign per season.
func campaignList(from, export int64) ([]campaign, map[int]string) {
	start := floorDay(from - 365*day)
	list := []campaign{
		{"CMP-APPT-SMS", "Appointment reminders (SMS)", "appointment_reminder", "sms", start, 0},
		{"CMP-APPT-EMAIL", "Appointment reminders (email)", "appointment_reminder", "email", start, 0},
		{"CMP-APPT-VOICE", "Appointment reminders (voice)", "appointment_reminder", "voice", start, 0},
		{"CMP-APPT-PORTAL", "Appointment reminders (portal)", "appointment_reminder", "portal", start, 0},
		{"CMP-REFILL", "Refill reminders", "refill_reminder", "sms", start, 0},
		{"CMP-SCREEN", "Cancer screening outreach, ages 50-75", "preventive_care", "portal", start, 0},
		{"CMP-LAB", "Lab results ready", "lab_result", "portal", start, 0},
		{"CMP-EDU-DM", "Living well with diabetes", "education", "email", start, 0},
		{"CMP-EDU-HEART", "Heart health: blood pressure, cholesterol, lifestyle", "education", "email", start, 0},
		{surveyCampaign, "Post-visit survey", "survey", "email", start, 0},
	}
	flu := map[int]string{}
	y0, _, _ := civil(from / day)
	y1, _, _ := civil(export / day)
	for y := y0; y <= y1; y++ {
		s := daysFromCivil(y, 9, 15) * day
		e := daysFromCivil(y, 11, 30) * day
		if e < from || s > export {
			continue
		}
		id := "CMP-FLU-" + string(append4(nil, y))
		flu[y] = id
		list = append(list, campaign{id, "Flu season " + string(append4(nil, y)) + ": get your flu shot", "preventive_care", "email", s, e})
	}
	return list, flu
}

func appendCampaigns(b []byte, list []campaign) []byte {
	for _, c := range list {
		b = append(b, c.id...)
		b = append(b, ',')
		b = appendCSV(b, c.name)
		b = append(b, ',')
		b = append(b, c.purpose...)
		b = append(b, ',')
		b = append(b, c.channel...)
		b = append(b, ',')
		if c.start != 0 {
			b = appendDate(b, c.start)
		}
		b = append(b, ',')
		if c.end != 0 {
			b = appendDate(b, c.end)
		}
		b = append(b, '\n')
	}
	return b
}

// preventiveOutreach sends flu, screening and education messages; an opened
// preventive message sometimes leads to a booked visit.
func (g *gen) preventiveOutreach() {
	w, o := g.w, &g.w.p.Outreach
	for who := 0; who < 2; who++ {
		if g.contacts[who] == nil {
			continue
		}
		for _, y := range w.years {
			id, ok := w.fluByYear[y]
			if !ok || !g.chance(o.FluOutreachProb) {
				continue
			}
			s := max(daysFromCivil(y, 9, 15)*day, w.from)
			e := min(daysFromCivil(y, 11, 30)*day, w.export)
			if e <= s {
				continue
			}
			g.preventive(who, id, 0, g.daytime(g.between(s, e), 14, 22))
		}
		if who == 1 {
			for n := g.poisson(0.3 * w.windowYear); n > 0; n-- {
				if mi := g.send(1, pEducation, "CMP-EDU-HEART", g.daytime(g.between(w.from, w.export), 14, 22), -1); mi >= 0 {
					g.msgs[mi].aux = 1
				}
			}
			continue
		}
		if age := g.ageAt(w.from); age >= 50 && age < 75 {
			for n := g.poisson(o.ScreeningPerYear * w.windowYear); n > 0; n-- {
				g.preventive(0, "CMP-SCREEN", 1, g.daytime(g.between(w.from, w.export), 14, 22))
			}
		}
		if g.nChronic > 0 {
			for n := g.poisson(o.EducationPerYear * w.windowYear); n > 0; n-- {
				id, aux := "CMP-EDU-HEART", 1
				if g.cond[condDM] != 0 {
					id, aux = "CMP-EDU-DM", 0
				}
				if mi := g.send(0, pEducation, id, g.daytime(g.between(w.from, w.export), 14, 22), -1); mi >= 0 {
					g.msgs[mi].aux = aux
				}
			}
		}
	}
}

func (g *gen) preventive(who int, campaignID string, aux int, t int64) {
	mi := g.send(who, pPreventive, campaignID, t, -1)
	if mi < 0 {
		return
	}
	g.msgs[mi].aux = aux
	m := g.msgs[mi]
	if who != 0 || m.opened == 0 || !g.chance(g.w.p.Outreach.PreventiveVisitBoost) {
		return
	}
	created := m.opened + g.between(0, 3*day)
	// the visit falls within the preventive window after the message
	start := g.slot(created + g.between(3*day, int64(g.w.p.Outreach.PreventiveWindowDays-10)*day))
	g.addAppt(visitPreventive, created, start)
}

// emitMessages writes the patient's messages, ordered by sending time, their
// delivery events and the survey responses. With EventShare a message's later
// states go to message_events instead of its own columns.
func (g *gen) emitMessages(c *chunk) {
	slices.SortStableFunc(g.msgs, func(a, b message) int { return cmp.Compare(a.sent, b.sent) })
	share := g.w.p.Outreach.EventShare
	b := c.buf[fMessages]
	var bodies [2]bool // a message went to contact 0 / 1 (canary bodies)
	for seq, m := range g.msgs {
		states := [4]int64{evDelivered: m.delivered, evOpened: m.opened, evReplied: m.replied, evFailed: m.failed}
		if g.feed.Float64() < share {
			g.reportEvents(seq, states)
			states = [4]int64{}
		}
		ct := g.contacts[m.contact]
		b = append(b, 'M')
		b = appendInt(b, int64(g.idx+1))
		b = append(b, '-')
		b = appendInt(b, int64(seq+1))
		b = append(b, ',')
		b = append(b, ct.id...)
		b = append(b, ',')
		b = append(b, m.campaign...)
		b = append(b, ',')
		b = append(b, purposes[m.purpose]...)
		b = append(b, ',')
		b = append(b, channels[m.channel]...)
		b = append(b, ',')
		g.scratch = g.body(g.scratch[:0], &m, ct)
		if g.w.canaries {
			g.scratch = appendCanary(append(g.scratch, ' '), 'B', ct.ck)
			bodies[m.contact] = true
		}
		b = appendCSV(b, string(g.scratch))
		b = append(b, ',')
		b = appendTS(b, m.sent)
		b = append(b, ',')
		for _, at := range states {
			b = appendCSVTS(b, at)
			b = append(b, ',')
		}
		b = appendCSV(b, m.reason)
		b = append(b, '\n')
	}
	c.buf[fMessages] = b
	c.lines[fMessages] += len(g.msgs)
	g.emitEvents(c)
	if g.w.canaries {
		for who, sent := range bodies {
			if sent {
				c.noteCanary(appendCanary(g.scratch[:0], 'B', g.contacts[who].ck))
			}
		}
	}

	b = c.buf[fSurveyResponses]
	for seq, s := range g.surveys {
		b = append(b, 'R')
		b = appendInt(b, int64(g.idx+1))
		b = append(b, '-')
		b = appendInt(b, int64(seq+1))
		b = append(b, ',')
		b = append(b, g.contacts[0].id...)
		b = append(b, ","+surveyID+","+surveyCampaign+","...)
		b = append(b, s.item...)
		b = append(b, ',')
		b = appendInt(b, int64(s.answer))
		b = append(b, ',')
		b = appendCSV(b, s.comment)
		b = append(b, ',')
		b = appendTS(b, s.at)
		b = append(b, '\n')
	}
	c.buf[fSurveyResponses] = b
	c.lines[fSurveyResponses] += len(g.surveys)
	if g.w.canaries {
		for _, s := range g.surveys {
			if s.comment != "" {
				c.noteCanary(appendCanary(g.scratch[:0], 'N', g.contacts[0].ck))
				break
			}
		}
	}
}

// body renders a message's free text.
func (g *gen) body(b []byte, m *message, ct *contact) []byte {
	switch m.purpose {
	case pAppt:
		b = append(b, "Hi "...)
		b = append(b, ct.given...)
		b = append(b, ", this is a reminder of your appointment at "...)
		b = append(b, clinics[m.aux].Name...)
		b = append(b, " on "...)
		b = appendDate(b, m.ref)
		b = append(b, " at "...)
		s := m.ref - floorDay(m.ref)
		b = append2(b, int(s/hour))
		b = append(b, ':')
		b = append2(b, int(s%hour/minute))
		b = append(b, " UTC. Reply C to confirm or R to reschedule."...)
	case pRefill:
		d := drugs[m.aux/8][m.aux%8]
		b = append(b, "Hi "...)
		b = append(b, ct.given...)
		b = append(b, ", your refill of "...)
		b = append(b, d.name...)
		b = append(b, " is overdue. Reply YES and we'll send it to your pharmacy."...)
	case pPreventive:
		if m.aux == 0 {
			b = append(b, "Flu shots are here! Walk in to any of our clinics, no appointment needed."...)
		} else {
			b = append(b, ct.given...)
			b = append(b, ", our records show you may be due for a colorectal cancer screening. Call "...)
			b = append(b, ct.phone...)
			b = append(b, " or book online."...)
		}
	case pLab:
		b = append(b, "Hi "...)
		b = append(b, ct.given...)
		b = append(b, ", your recent lab results are ready in the patient portal."...)
	case pEducation:
		if m.aux == 0 {
			b = append(b, `Living well with diabetes: "5 easy swaps" for your plate, read more in the portal.`...)
		} else {
			b = append(b, "Heart health tip: a 20-minute walk a day lowers blood pressure. Learn more in the portal."...)
		}
	case pSurvey:
		b = append(b, "How was your visit, "...)
		b = append(b, ct.given...)
		b = append(b, "? Tell us in 2 minutes: https://survey.example.org/s/"...)
		b = appendInt(b, int64(g.idx+1)*1000+int64(m.aux))
	}
	return b
}

// surveyAfterVisit sends a survey after a kept visit ending at t and, when
// the patient answers, records the responses.
func (g *gen) surveyAfterVisit(t int64, visit int) {
	o := &g.w.p.Outreach
	if !g.chance(o.SurveyProb) {
		return
	}
	mi := g.send(0, pSurvey, surveyCampaign, g.daytime(t+day, 14, 22), chEmail)
	if mi < 0 {
		return
	}
	m := &g.msgs[mi]
	m.aux = visit
	m.opened, m.replied = 0, 0
	if m.delivered == 0 || !g.chance(o.SurveyResponse) {
		return
	}
	m.opened = m.delivered + g.between(60, 24*3600)
	m.replied = m.opened + g.between(60, 15*60)
	if m.replied > g.w.export {
		m.opened, m.replied = 0, 0
		return
	}
	at := m.replied
	s := 0.8*g.sat + 0.6*g.r.NormFloat64()
	clamp := func(v float64, lo, hi int) int { return min(max(int(math.Round(v)), lo), hi) }
	var comment string
	if g.chance(o.SurveyCommentProb) {
		comment = g.pick(surveyComments)
		if g.w.canaries {
			comment = string(appendCanary([]byte(comment+" "), 'N', g.contacts[0].ck))
		}
	}
	g.surveys = append(g.surveys, survey{"nps", clamp(8.2+1.7*s, 0, 10), comment, at})
	if !g.chance(o.SurveyFullShare) {
		return
	}
	g.surveys = append(g.surveys, survey{"cahps_rating", clamp(8.5+1.5*s+0.5*g.r.NormFloat64(), 0, 10), "", at})
	for _, item := range []string{"cahps_explain", "cahps_listen", "cahps_respect", "cahps_time"} {
		g.surveys = append(g.surveys, survey{item, clamp(3.2+0.7*s+0.4*g.r.NormFloat64(), 1, 4), "", at})
	}
}
