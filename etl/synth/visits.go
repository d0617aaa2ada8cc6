package synth

import (
	"cmp"
	"math"
	"slices"
	"sort"
)

// encType is an encounter type: its SNOMED CT code and, for office and
// virtual visits, the billing code (CPT or HCPCS) an EHR records first, as
// the eCQM visit value sets (Office Visit, Virtual Encounter) name visits by
// billing code.
type encType struct{ code, display, billSystem, billCode, billDisplay string }

const (
	typeCheckup = iota
	typeFollowUp
	typeWellChild
	typeTele
	typeER
	typeAdmit
	typeProblem
)

var encTypes = []encType{
	{"185349003", "Encounter for check up (procedure)", cptSystem, "99214", "Office or other outpatient visit, established patient, moderate"},
	{"390906007", "Follow-up encounter (procedure)", cptSystem, "99213", "Office or other outpatient visit, established patient, low"},
	{"410620009", "Well child visit (procedure)", "", "", ""},
	{"448337001", "Telemedicine consultation with patient (procedure)", hcpcsSystem, "G2012", "Brief communication technology-based service"},
	{"50849002", "Emergency room admission (procedure)", "", "", ""},
	{"32485007", "Hospital admission (procedure)", "", "", ""},
	{"185347001", "Encounter for problem (procedure)", cptSystem, "99213", "Office or other outpatient visit, established patient, low"},
}

const (
	cptSystem   = "http://www.ama-assn.org/go/cpt"
	hcpcsSystem = "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
)

var classDisplay = map[string]string{"AMB": "ambulatory", "VR": "virtual", "EMER": "emergency", "IMP": "inpatient encounter"}

type disposition struct{ code, display string }

var dispositions = []disposition{
	{"home", "Home"}, {"snf", "Skilled nursing facility"}, {"rehab", "Rehabilitation"},
	{"other-hcf", "Other healthcare facility"}, {"aadvice", "Left against advice"},
}
var dispositionCum = cumulative([]int{78, 10, 6, 4, 2})

type cancelReason struct{ code, display string }

var cancelReasons = []cancelReason{{"pat", "Patient"}, {"prov", "Provider"}, {"oth-weath", "Weather"}, {"other", "Other"}}
var cancelReasonCum = cumulative([]int{75, 15, 5, 5})

// acute simulates emergency visits and inpatient stays, with follow-up
// visits booked after discharges and readmissions.
func (g *gen) acute(c *chunk) {
	w, p := g.w, &g.w.p.Acute
	n := g.poisson((p.EmergencyPerYear + p.EmergencyPerCondition*float64(g.nChronic)) * w.windowYear)
	for ; n > 0; n-- {
		t := g.between(w.from, w.export)
		if t > g.birth && g.alive(t) {
			g.emergency(c, t)
		}
	}
	n = g.poisson((p.InpatientPerYear + p.InpatientPerCondition*float64(g.nChronic)) * w.windowYear)
	for ; n > 0; n-- {
		t := g.between(w.from, w.export)
		if t > g.birth && g.alive(t) {
			g.inpatient(c, t, 0)
		}
	}
}

func (g *gen) emergency(c *chunk, t int64) {
	end := t + g.between(2*hour, 8*hour)
	id := g.newID()
	g.emitEncounter(c, &id, "EMER", typeER, t, end, nil, nil)
	if g.ageAt(t) >= 18 && g.chance(g.w.p.BP.AcuteMeasureProb) {
		sys, dia := g.bp(t)
		g.emitBP(c, &id, t+g.between(5*minute, 30*minute), sys+g.w.p.BP.AcuteSystolicExcess, dia+5)
	}
	if end < g.w.export && g.chance(0.15) {
		g.inpatient(c, end, 0)
	}
}

func (g *gen) inpatient(c *chunk, t int64, depth int) {
	w, p := g.w, &g.w.p.Acute
	los := int64(1+g.intn(3)+g.poisson(1.5)) * day
	end := g.daytime(t+los, 15, 22)
	id := g.newID()
	var disp *disposition
	if end <= w.export {
		disp = &dispositions[g.pickCum(dispositionCum)]
	}
	g.emitEncounter(c, &id, "IMP", typeAdmit, t, end, nil, disp)
	if g.ageAt(t) >= 18 && g.chance(g.w.p.BP.AcuteMeasureProb) {
		sys, dia := g.bp(t)
		g.emitBP(c, &id, g.between(t+hour, min(end, w.export)), sys+g.w.p.BP.AcuteSystolicExcess, dia+5)
	}
	if end > w.export || !g.alive(end) {
		return
	}
	switch {
	case g.chance(p.FollowUp7Prob):
		g.addAppt(visitFollowUp, end+g.between(hour, 20*hour), g.slot(end+g.between(2*day, 6*day)))
	case g.chance(p.FollowUp30Prob):
		g.addAppt(visitFollowUp, end+g.between(hour, 3*day), g.slot(end+g.between(8*day, 29*day)))
	}
	if depth < 2 && g.chance(p.ReadmitProb+0.15*(1-g.adherence)) {
		if r := end + g.between(2*day, 29*day); r < w.export && g.alive(r) {
			g.inpatient(c, r, depth+1)
		}
	}
}

// addAppt adds an appointment to the patient's book; created 0 = draw the
// booking lead time later.
func (g *gen) addAppt(kind int, created, start int64) {
	g.appts = append(g.appts, appt{kind: kind, created: created, start: start, hasCreated: created != 0})
}

// leadTime draws how long before its start an appointment was booked.
func (g *gen) leadTime() int64 {
	ap := &g.w.p.Appointments
	switch u := g.r.Float64(); {
	case u < ap.LeadShortShare:
		return g.between(2*hour, 7*day)
	case u < ap.LeadShortShare+ap.LeadMediumShare:
		return g.between(7*day, 35*day)
	default:
		return g.between(35*day, 120*day)
	}
}

// appointments books the patient's visits, decides cancellations and
// reminders, then attendance (which depends on the reminders delivered), and
// writes appointments, the encounters of kept visits, and what happens there.
func (g *gen) appointments(c *chunk) {
	w, ap := g.w, &g.w.p.Appointments
	lambda := ap.VisitsPerYearBase + ap.VisitsPerYearPerCondition*float64(g.nChronic)
	if g.ageAt(w.export) < 3 {
		lambda += ap.VisitsPerYearInfant
	}
	n := g.poisson(lambda * float64(w.horizon-w.from) / yearSec)
	for ; n > 0; n-- {
		start := g.slot(g.between(w.from, w.horizon))
		kind := visitRoutine
		switch {
		case g.ageAt(start) < 3:
			kind = visitWellChild
		case g.nChronic > 0 && g.chance(0.5):
			kind = visitFollowUp
		}
		g.addAppt(kind, 0, start)
	}
	if g.chance(0.012) { // booked for the export day itself
		start := g.slot(w.exportDay)
		g.addAppt(visitRoutine, g.between(start-4*day, start-hour), start)
	}

	// Booking times; drop what was not booked by the export or cannot happen.
	kept := g.appts[:0]
	for _, a := range g.appts {
		if !a.hasCreated {
			a.created = g.daytime(a.start-g.leadTime(), 12, 23)
			if a.created > a.start-30*minute {
				a.created = a.start - 30*minute
			}
		}
		if a.created > w.export || a.start > w.horizon || a.start < g.birth+day || !g.alive(a.start) {
			continue
		}
		a.end = a.start + int64(15+15*g.intn(3))*minute
		a.tele = a.kind != visitWellChild && g.chance(ap.TelehealthShare)
		kept = append(kept, a)
	}
	g.appts = kept
	slices.SortStableFunc(g.appts, func(a, b appt) int { return cmp.Compare(a.start, b.start) })

	// Phase 1: cancellations and reminders.
	late := int64(ap.LateCancelHours) * hour
	for i := range g.appts {
		a := &g.appts[i]
		a.id = g.newID()
		a.status = -1
		u := g.r.Float64()
		switch {
		case a.start < w.exportDay && u < ap.EnteredInErrorProb:
			a.status = stEnteredInError
			continue
		case u < ap.EnteredInErrorProb+ap.CancelProb:
			if a.start-late > a.created {
				a.cancel = g.between(a.created, a.start-late)
			} else {
				a.cancel = g.between(a.created, a.start-15*minute)
			}
		case u < ap.EnteredInErrorProb+ap.CancelProb+ap.LateCancelProb:
			a.cancel = g.between(max(a.created, a.start-late), a.start-15*minute)
		}
		if a.cancel > w.export {
			a.cancel = 0
		}
		if a.cancel != 0 {
			a.status = stCancelled
		}
		if g.contacts[0] == nil || !g.chance(ap.ReminderShare) {
			continue
		}
		at := g.daytime(a.start-int64(1+g.intn(3))*day, 13, 23)
		if at < a.created+hour || (a.cancel != 0 && at >= a.cancel) {
			continue
		}
		if mi := g.send(0, pAppt, "", at, -1); mi >= 0 {
			m := &g.msgs[mi]
			m.ref, m.aux = a.start, g.clinic
			if m.delivered != 0 {
				g.delivered = append(g.delivered, m.delivered)
			}
		}
	}
	slices.Sort(g.delivered)

	// Phase 2: attendance and statuses.
	window := int64(ap.ReminderWindowDays) * day
	for i := range g.appts {
		a := &g.appts[i]
		if a.status >= 0 {
			continue
		}
		switch {
		case a.start < w.exportDay: // due: kept or missed
			lead := float64(a.start-a.created) / float64(7*day)
			x := ap.NoshowBaseLogit + ap.NoshowLeadPerWeek*lead + g.noshowProp
			if g.remindedBefore(a.start, window) {
				x += ap.ReminderLogOdds
			}
			if g.chance(logistic(x)) {
				a.status = stNoshow
			} else {
				a.status = stFulfilled
			}
		case a.start <= w.export: // today
			switch u := g.intn(100); {
			case u < 30:
				a.status = stArrived
			case u < 60:
				a.status = stCheckedIn
			case u < 85 || a.start+hour > w.export:
				a.status = stBooked
			default:
				a.status = stFulfilled
			}
		default: // future
			switch u := g.intn(100); {
			case u < 70:
				a.status = stBooked
			case u < 82:
				a.status = stPending
			case u < 90:
				a.status = stProposed
			default:
				a.status = stWaitlist
			}
		}
	}

	// Phase 3: write appointments and what happened at kept visits.
	for i := range g.appts {
		a := &g.appts[i]
		c.statuses[a.status]++
		g.emitAppointment(c, a)
		switch a.status {
		case stFulfilled, stArrived, stCheckedIn:
			g.visit(c, a, i)
		}
	}
}

// remindedBefore reports whether a reminder was delivered in [t-window, t).
func (g *gen) remindedBefore(t, window int64) bool {
	i := sort.Search(len(g.delivered), func(i int) bool { return g.delivered[i] >= t-window })
	return i < len(g.delivered) && g.delivered[i] < t
}

// visit writes the encounter of a kept appointment and its observations,
// lab-result message and survey.
func (g *gen) visit(c *chunk, a *appt, n int) {
	w, bp, h := g.w, &g.w.p.BP, &g.w.p.HbA1c
	id := g.newID()
	start := a.start + g.between(0, 10*minute)
	end := start + g.between(15*minute, 40*minute)
	if a.status != stFulfilled {
		end = 0 // still in progress at the export
	}
	class, typ := "AMB", typeCheckup
	switch {
	case a.tele:
		class, typ = "VR", typeTele
	case a.kind == visitWellChild:
		typ = typeWellChild
	case a.kind == visitFollowUp:
		typ = typeFollowUp
	case a.kind == visitRoutine && g.chance(0.3):
		typ = typeProblem
	}
	g.emitEncounter(c, &id, class, typ, start, end, &a.id, nil)
	if end == 0 || class != "AMB" {
		return
	}
	if g.ageAt(start) >= 18 && g.chance(bp.MeasureProb) {
		t := start + g.between(2*minute, 10*minute)
		sys, dia := g.bp(t)
		g.emitBP(c, &id, t, sys, dia)
		if (sys >= 140 || dia >= 90) && g.chance(bp.RepeatProb) {
			g.emitBP(c, &id, t+g.between(5*minute, 15*minute), sys-float64(3+g.intn(10)), dia-float64(1+g.intn(6)))
		}
	}
	var a1c float64
	switch {
	case g.has(condDM, start):
		if !g.noA1c && start-g.lastA1c >= int64(h.MinIntervalDays)*day && g.chance(h.TestProb) {
			a1c = h.Intercept + h.SlopePerPDC*g.coverage(classDM, start) + h.SD*g.r.NormFloat64()
		}
	case g.ageAt(start) >= 45 && g.chance(h.ScreenProb):
		a1c = h.NondiabeticMean + h.NondiabeticSD*g.r.NormFloat64()
	}
	if a1c != 0 {
		a1c = math.Round(min(max(a1c, 4.2), 15)*10) / 10
		g.lastA1c = start
		g.emitA1c(c, &id, start+g.between(10*minute, 30*minute), a1c)
		if g.chance(w.p.Outreach.LabResultProb) {
			g.send(0, pLab, "CMP-LAB", g.daytime(start+int64(1+g.intn(2))*day, 14, 22), chPortal)
		}
	}
	g.surveyAfterVisit(end, n)
}

// bp draws a blood pressure reading at t.
func (g *gen) bp(t int64) (sys, dia float64) {
	p := &g.w.p.BP
	age := g.ageAt(t)
	if g.has(condHTN, t) {
		cov := g.coverage(classRAS, t)
		sys = p.SystolicIntercept + p.SystolicSlopePerPDC*cov + p.SystolicAgeSlope*(age-60) + p.SystolicSD*g.r.NormFloat64()
		dia = p.DiastolicIntercept + p.DiastolicSlopePerPDC*cov + p.DiastolicSD*g.r.NormFloat64()
	} else {
		sys = p.NormalSystolicMean + p.NormalSystolicAge*(age-40) + 10*g.r.NormFloat64()
		dia = p.NormalDiastolicMean + 7*g.r.NormFloat64()
	}
	return math.Round(min(max(sys, 85), 230)), math.Round(min(max(dia, 45), 135))
}

func (g *gen) emitEncounter(c *chunk, id *rid, class string, typ int, start, end int64, apptID *rid, disp *disposition) {
	if end > g.w.export {
		end = 0
	}
	b := c.buf[fEncounter]
	b = append(b, `{"resourceType":"Encounter","id":"`...)
	b = append(b, id[:]...)
	if end == 0 {
		b = append(b, `","status":"in-progress"`...)
	} else {
		b = append(b, `","status":"finished"`...)
	}
	b = append(b, `,"class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"`...)
	b = append(b, class...)
	b = append(b, `","display":"`...)
	b = append(b, classDisplay[class]...)
	b = append(b, `"},"type":[{"coding":[`...)
	if et := encTypes[typ]; et.billCode != "" {
		b = append(b, `{"system":"`...)
		b = append(b, et.billSystem...)
		b = append(b, `","code":"`...)
		b = append(b, et.billCode...)
		b = append(b, `","display":"`...)
		b = append(b, et.billDisplay...)
		b = append(b, `"},`...)
	}
	b = append(b, `{"system":"http://snomed.info/sct","code":"`...)
	b = append(b, encTypes[typ].code...)
	b = append(b, `","display":"`...)
	b = append(b, encTypes[typ].display...)
	b = append(b, `"}]}],"subject":{"reference":"Patient/`...)
	b = append(b, g.pidb...)
	b = append(b, `"},"period":{"start":"`...)
	b = appendTS(b, start)
	b = append(b, '"')
	if end != 0 {
		b = append(b, `,"end":"`...)
		b = appendTS(b, end)
		b = append(b, '"')
	}
	b = append(b, `},"serviceProvider":{"reference":"Organization/`...)
	b = append(b, clinics[g.clinic].ID...)
	b = append(b, `"}`...)
	if class == "AMB" {
		b = append(b, `,"location":[{"location":{"reference":"Location/`...)
		b = append(b, clinics[g.clinic].ID...)
		b = append(b, `"}}]`...)
	}
	if apptID != nil {
		b = append(b, `,"appointment":[{"reference":"Appointment/`...)
		b = append(b, apptID[:]...)
		b = append(b, `"}]`...)
	}
	if disp != nil && end != 0 {
		b = append(b, `,"hospitalization":{"dischargeDisposition":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/discharge-disposition","code":"`...)
		b = append(b, disp.code...)
		b = append(b, `","display":"`...)
		b = append(b, disp.display...)
		b = append(b, `"}]}}`...)
	}
	b = append(b, "}\n"...)
	c.buf[fEncounter] = b
	c.lines[fEncounter]++
}

func (g *gen) emitAppointment(c *chunk, a *appt) {
	b := c.buf[fAppointment]
	b = append(b, `{"resourceType":"Appointment","id":"`...)
	b = append(b, a.id[:]...)
	b = append(b, `","status":"`...)
	b = append(b, apptStatuses[a.status]...)
	b = append(b, '"')
	if a.status == stCancelled {
		r := &cancelReasons[g.pickCum(cancelReasonCum)]
		b = append(b, `,"cancelationReason":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/appointment-cancellation-reason","code":"`...)
		b = append(b, r.code...)
		b = append(b, `","display":"`...)
		b = append(b, r.display...)
		b = append(b, `"}]}`...)
	}
	b = append(b, `,"serviceType":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/service-type","code":"124","display":"General Practice"}]}],"created":"`...)
	b = appendTS(b, a.created)
	b = append(b, `","start":"`...)
	b = appendTS(b, a.start)
	b = append(b, `","end":"`...)
	b = appendTS(b, a.end)
	b = append(b, `","participant":[{"actor":{"reference":"Patient/`...)
	b = append(b, g.pidb...)
	status := "accepted"
	if a.status == stProposed || a.status == stPending {
		status = "needs-action"
	}
	b = append(b, `"},"status":"`...)
	b = append(b, status...)
	b = append(b, `"},{"actor":{"reference":"Location/`...)
	b = append(b, clinics[g.clinic].ID...)
	b = append(b, `"},"status":"accepted"}]`...)
	if a.status == stCancelled {
		b = append(b, `,"extension":[{"url":"http://hl7.org/fhir/5.0/StructureDefinition/extension-Appointment.cancellationDate","valueDateTime":"`...)
		b = appendTS(b, a.cancel)
		b = append(b, `"}]`...)
	}
	b = append(b, "}\n"...)
	c.buf[fAppointment] = b
	c.lines[fAppointment]++
}

func (g *gen) emitObservationHead(b []byte, id *rid, category string) []byte {
	b = append(b, `{"resourceType":"Observation","id":"`...)
	b = append(b, id[:]...)
	b = append(b, `","status":"final","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"`...)
	b = append(b, category...)
	return append(b, `"}]}],`...)
}

func (g *gen) emitObservationContext(b []byte, enc *rid, t int64) []byte {
	b = append(b, `"subject":{"reference":"Patient/`...)
	b = append(b, g.pidb...)
	b = append(b, `"},"encounter":{"reference":"Encounter/`...)
	b = append(b, enc[:]...)
	b = append(b, `"},"effectiveDateTime":"`...)
	b = appendTS(b, t)
	return append(b, '"')
}

func (g *gen) emitBP(c *chunk, enc *rid, t int64, sys, dia float64) {
	id := g.newID()
	b := g.emitObservationHead(c.buf[fObservation], &id, "vital-signs")
	b = append(b, `"code":{"coding":[{"system":"http://loinc.org","code":"85354-9","display":"Blood pressure panel with all children optional"}]},`...)
	b = g.emitObservationContext(b, enc, t)
	b = append(b, `,"component":[{"code":{"coding":[{"system":"http://loinc.org","code":"8480-6","display":"Systolic blood pressure"}]},"valueQuantity":{"value":`...)
	b = appendFixed(b, sys, 0)
	b = append(b, `,"unit":"mmHg","system":"http://unitsofmeasure.org","code":"mm[Hg]"}},{"code":{"coding":[{"system":"http://loinc.org","code":"8462-4","display":"Diastolic blood pressure"}]},"valueQuantity":{"value":`...)
	b = appendFixed(b, dia, 0)
	b = append(b, `,"unit":"mmHg","system":"http://unitsofmeasure.org","code":"mm[Hg]"}}]}`+"\n"...)
	c.buf[fObservation] = b
	c.lines[fObservation]++
}

func (g *gen) emitA1c(c *chunk, enc *rid, t int64, v float64) {
	id := g.newID()
	b := g.emitObservationHead(c.buf[fObservation], &id, "laboratory")
	b = append(b, `"code":{"coding":[{"system":"http://loinc.org","code":"4548-4","display":"Hemoglobin A1c/Hemoglobin.total in Blood"}]},`...)
	b = g.emitObservationContext(b, enc, t)
	b = append(b, `,"valueQuantity":{"value":`...)
	b = appendFixed(b, v, 1)
	b = append(b, `,"unit":"%","system":"http://unitsofmeasure.org","code":"%"}}`+"\n"...)
	c.buf[fObservation] = b
	c.lines[fObservation]++
}
