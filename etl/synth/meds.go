package synth

import "math"

const never = int64(math.MaxInt64)

// firstChoice weights the drugs of each class for a first prescription.
var firstChoice = [nClasses][]int{
	classRAS:    cumulative([]int{60, 40}),
	classDM:     cumulative([]int{55, 25, 20}),
	classStatin: cumulative([]int{50, 25, 25}),
}

// medications simulates each treated class: prescriptions, renewals, a
// possible switch within the class, fills driven by the patient's adherence,
// and refill reminders for overdue fills. It writes MedicationDispense as it
// goes and MedicationRequest at the end, when their final status is known.
func (g *gen) medications(c *chunk) {
	w, a, o := g.w, &g.w.p.Adherence, &g.w.p.Outreach
	for k := 0; k < nClasses; k++ {
		onset := g.cond[classCondition[k]]
		if onset == 0 || !g.chance(a.TreatProb) {
			continue
		}
		ts := onset + g.between(0, 45*day)
		if ts > w.export || !g.alive(ts) || g.ageAt(ts) < 10 {
			continue
		}
		supply := 30
		if g.chance(a.Supply90Share) {
			supply = 90
		}
		drug := g.pickCum(firstChoice[k])
		ongoing := ts < w.histStart
		var rx int64
		if ongoing {
			rx = g.daytime(w.histStart-g.between(0, 330*day), 13, 22)
		} else {
			rx = g.daytime(ts, 13, 22)
		}
		g.treated[k] = 1
		g.newReq(k, drug, rx, supply)
		if !ongoing && g.chance(a.PrimaryNonadherence) {
			g.treated[k] = 2 // prescribed, never filled
			continue
		}
		var dropAt int64 = never
		if g.pattern == 2 {
			dropAt = g.between(w.from, w.export)
		}
		var switchAt int64
		if g.chance(a.SwitchProb) {
			switchAt = g.between(max(rx, w.from), w.export)
		}
		t := g.daytime(rx+g.between(0, 4*day), 13, 23)
		onReq := 0
		for t <= w.export && g.alive(t) {
			cur := &g.reqs[len(g.reqs)-1]
			if onReq > repeats(supply) || t-cur.authored > 365*day {
				cur.status = "completed"
				g.newReq(k, cur.drug, t-g.between(hour, 3*hour), supply)
				cur = &g.reqs[len(g.reqs)-1]
				onReq = 0
			}
			onReq++
			g.fills[k] = append(g.fills[k], span{t, t + int64(supply)*day})
			if t >= w.histStart {
				g.emitDispense(c, cur, t)
			}
			due := t + int64(supply)*day
			next := never
			if t < dropAt {
				if g.chance(a.EarlyRefillProb) {
					next = max(due-int64(1+g.intn(a.EarlyRefillMaxDays))*day, t+day)
				} else {
					gap := float64(supply) * (1/g.adherence - 1) * g.r.ExpFloat64()
					next = due + int64(gap*float64(day)) + g.between(-day, 2*day)
				}
				next = g.daytime(next, 13, 23)
			}
			if switchAt != 0 && switchAt > t && next > switchAt {
				cur.status = "stopped"
				nd := (cur.drug + 1 + g.intn(len(drugs[k])-1)) % len(drugs[k])
				g.newReq(k, nd, switchAt, supply)
				t = g.daytime(switchAt+g.between(0, 3*day), 13, 23)
				switchAt, onReq = 0, 0
				continue
			}
			overdue := due + int64(o.RefillOverdueDays)*day
			if next > overdue && overdue < w.export && g.chance(o.RefillReminderShare) {
				if mi := g.send(0, pRefill, "CMP-REFILL", g.daytime(overdue, 14, 22), -1); mi >= 0 {
					m := &g.msgs[mi]
					m.aux = k*8 + cur.drug
					if m.replied != 0 && g.chance(o.RefillReplyFillBoost) {
						cand := m.replied + g.between(hour, int64(o.RefillReplyWindowDays)*day)
						next = min(next, cand)
					}
				}
			}
			t = next
		}
		if g.death != 0 {
			g.reqs[len(g.reqs)-1].status = "stopped"
		}
	}
	for i := range g.reqs {
		g.emitRequest(c, &g.reqs[i])
	}
}

// repeats is the number of refills a prescription allows: a year's supply.
func repeats(supply int) int {
	if supply == 90 {
		return 3
	}
	return 11
}

func (g *gen) newReq(class, drug int, authored int64, supply int) {
	g.reqs = append(g.reqs, medReq{id: g.newID(), class: class, drug: drug, authored: authored, supply: supply, status: "active"})
}

func appendMedication(b []byte, d *drug) []byte {
	b = append(b, `"medicationCodeableConcept":{"coding":[{"system":"http://www.nlm.nih.gov/research/umls/rxnorm","code":"`...)
	b = append(b, d.rxnorm...)
	b = append(b, `","display":"`...)
	b = append(b, d.name...)
	return append(b, `"}]}`...)
}

func appendDays(b []byte, n int) []byte {
	b = append(b, `{"value":`...)
	b = appendInt(b, int64(n))
	return append(b, `,"unit":"days","system":"http://unitsofmeasure.org","code":"d"}`...)
}

func appendTablets(b []byte, n int) []byte {
	b = append(b, `{"value":`...)
	b = appendInt(b, int64(n))
	return append(b, `,"unit":"tablet"}`...)
}

func (g *gen) emitRequest(c *chunk, r *medReq) {
	d := &drugs[r.class][r.drug]
	b := c.buf[fMedicationRequest]
	b = append(b, `{"resourceType":"MedicationRequest","id":"`...)
	b = append(b, r.id[:]...)
	b = append(b, `","status":"`...)
	b = append(b, r.status...)
	b = append(b, `","intent":"order",`...)
	b = appendMedication(b, d)
	b = append(b, `,"subject":{"reference":"Patient/`...)
	b = append(b, g.pidb...)
	b = append(b, `"},"authoredOn":"`...)
	b = appendTS(b, r.authored)
	b = append(b, `","dispenseRequest":{"numberOfRepeatsAllowed":`...)
	b = appendInt(b, int64(repeats(r.supply)))
	b = append(b, `,"quantity":`...)
	b = appendTablets(b, r.supply*d.perDay)
	b = append(b, `,"expectedSupplyDuration":`...)
	b = appendDays(b, r.supply)
	b = append(b, "}}\n"...)
	c.buf[fMedicationRequest] = b
	c.lines[fMedicationRequest]++
}

func (g *gen) emitDispense(c *chunk, r *medReq, t int64) {
	d := &drugs[r.class][r.drug]
	id := g.newID()
	b := c.buf[fMedicationDispense]
	b = append(b, `{"resourceType":"MedicationDispense","id":"`...)
	b = append(b, id[:]...)
	b = append(b, `","status":"completed",`...)
	b = appendMedication(b, d)
	b = append(b, `,"subject":{"reference":"Patient/`...)
	b = append(b, g.pidb...)
	b = append(b, `"},"authorizingPrescription":[{"reference":"MedicationRequest/`...)
	b = append(b, r.id[:]...)
	b = append(b, `"}],"quantity":`...)
	b = appendTablets(b, r.supply*d.perDay)
	b = append(b, `,"daysSupply":`...)
	b = appendDays(b, r.supply)
	b = append(b, `,"whenHandedOver":"`...)
	b = appendTS(b, t)
	b = append(b, "\"}\n"...)
	c.buf[fMedicationDispense] = b
	c.lines[fMedicationDispense]++
}
