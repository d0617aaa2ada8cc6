package synth

// Delivery events: how a CRM's notification feed reports a message's later
// states. The states themselves are simulated in send; this file only
// decides how they are reported, from the feed stream.

// event kinds, in the order of a message's state columns
const (
	evDelivered = iota
	evOpened
	evReplied
	evFailed
)

var eventNames = [4]string{"delivered", "opened", "replied", "failed"}

// event is one row of message_events.csv.
type event struct {
	id   int // E<patient#>-<id>; a resent row repeats it
	msg  int // the message's sequence number (M<patient#>-<msg+1>)
	kind int
	at   int64
}

// reportEvents appends events for the states of message msg (times indexed
// by event kind, 0 = not reached): one per state reached at its true time,
// now and then followed by a repeated notification with a new id up to 600 s
// later (never after the export). Each row is, now and then, also resent with
// the same id.
func (g *gen) reportEvents(msg int, states [4]int64) {
	o, export := &g.w.p.Outreach, g.w.export
	for kind, at := range states {
		if at == 0 {
			continue
		}
		g.addEvent(msg, kind, at)
		if g.feed.Float64() < o.EventDuplicate {
			if again := min(at+1+g.feed.Int64N(600), export); again > at {
				g.addEvent(msg, kind, again)
			}
		}
	}
}

// addEvent appends a new event, and its resent copy with EventResend.
func (g *gen) addEvent(msg, kind int, at int64) {
	g.eventSeq++
	e := event{id: g.eventSeq, msg: msg, kind: kind, at: at}
	g.events = append(g.events, e)
	if g.feed.Float64() < g.w.p.Outreach.EventResend {
		g.events = append(g.events, e)
	}
}

// emitEvents writes the patient's events in a random order: a feed delivers
// them out of order, a state's duplicate or resent copy possibly first.
func (g *gen) emitEvents(c *chunk) {
	ev := g.events
	g.feed.Shuffle(len(ev), func(i, j int) { ev[i], ev[j] = ev[j], ev[i] })
	b := c.buf[fMessageEvents]
	for _, e := range ev {
		b = append(b, 'E')
		b = appendInt(b, int64(g.idx+1))
		b = append(b, '-')
		b = appendInt(b, int64(e.id))
		b = append(b, ",M"...)
		b = appendInt(b, int64(g.idx+1))
		b = append(b, '-')
		b = appendInt(b, int64(e.msg+1))
		b = append(b, ',')
		b = append(b, eventNames[e.kind]...)
		b = append(b, ',')
		b = appendTS(b, e.at)
		b = append(b, '\n')
	}
	c.buf[fMessageEvents] = b
	c.lines[fMessageEvents] += len(ev)
}
