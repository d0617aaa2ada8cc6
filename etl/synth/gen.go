package synth

import (
	"math"
	"math/rand/v2"
	"sort"
)

// world is the read-only setting shared by all workers.
type world struct {
	seed       uint64
	from       int64 // first instant of the window
	exportDay  int64 // first instant of the export day (To)
	export     int64 // the export time: the last second of To
	horizon    int64 // appointments are booked up to here
	histStart  int64 // dispenses are exported from here
	p          Params
	campaigns  []campaign
	fluByYear  map[int]string
	years      []int // calendar years the window touches
	clinicCum  []int
	areaCum    []int
	windowYear float64 // length of [from, export] in years
	canaries   bool    // Options.Canaries
}

const yearSec = 365.2425 * 86400

// chunk is the output of one run of consecutive patients: one buffer per
// file, the number of lines in each, and the facts truth.json sums.
type chunk struct {
	buf       [nFiles][]byte
	lines     [nFiles]int
	patients  int
	unmatched int
	statuses  [10]int
	// canaries lists the canary identifiers written (Options.Canaries),
	// one per line.
	canaries  []byte
	nCanaries int
}

func (c *chunk) reset() {
	for i := range c.buf {
		c.buf[i] = c.buf[i][:0]
		c.lines[i] = 0
	}
	c.patients, c.unmatched = 0, 0
	c.statuses = [10]int{}
	c.canaries, c.nCanaries = c.canaries[:0], 0
}

// rid is a resource id: a UUID in text form.
type rid [36]byte

// contact is a CRM contact.
type contact struct {
	// ck is the contact's person number for canaries (see canary.go).
	ck            int
	id, mrn       string
	given, family string
	email, phone  string
	preferred     int
	// optOut are the flags written (sms, email, voice): the channels the
	// contact opted out of one by one (ownOptOut), or all three after a
	// withdrawal of all consent.
	optOut    [3]bool
	ownOptOut [3]bool
	// withdrawn: consent to every channel withdrawn (an `all` opt-out); the
	// contact is not messaged at all, not even on the portal.
	withdrawn bool
	// reoptin: an sms opt-out that a later sms opt-in revoked.
	reoptin          bool
	portal           bool
	lang             string
	created, updated int64
}

// canUse reports whether the contact can be reached on channel ch.
func (c *contact) canUse(ch int) bool {
	if c.withdrawn {
		return false
	}
	switch ch {
	case chSMS, chEmail, chVoice:
		return !c.optOut[ch]
	case chPortal:
		return c.portal
	}
	return false
}

// channel returns the channel to use: the preferred one if allowed, else the
// first allowed in fallback order, else -1.
func (c *contact) channel(want int) int {
	if want >= 0 && c.canUse(want) {
		return want
	}
	if c.canUse(c.preferred) {
		return c.preferred
	}
	for ch := range channels {
		if c.canUse(ch) {
			return ch
		}
	}
	return -1
}

// message purposes
const (
	pAppt = iota
	pRefill
	pPreventive
	pLab
	pEducation
	pSurvey
)

var purposes = []string{"appointment_reminder", "refill_reminder", "preventive_care", "lab_result", "education", "survey"}

type message struct {
	contact                            int // 0 = the patient's contact, 1 = the unmatched one
	purpose                            int
	channel                            int
	campaign                           string
	ref                                int64 // appointment start, for reminder bodies
	aux                                int   // drug index, clinic index, … for the body
	sent                               int64
	delivered, opened, replied, failed int64
	reason                             string
}

type survey struct {
	item    string
	answer  int
	comment string
	at      int64
}

type appt struct {
	id                  rid
	start, end, created int64
	cancel              int64
	status              int
	kind                int // visitRoutine, …
	tele                bool
	hasCreated          bool
}

const (
	visitRoutine = iota
	visitFollowUp
	visitPreventive
	visitWellChild
)

type span struct{ from, to int64 }

type medReq struct {
	id       rid
	class    int
	drug     int
	authored int64
	supply   int
	status   string
}

// gen simulates patients; one per worker, reused across patients.
type gen struct {
	w   *world
	pcg *rand.PCG
	r   *rand.Rand
	// feed is a second stream per patient for how the CRM reports what
	// happened (delivery events, consent records, withdrawals), kept apart
	// from r so that it does not shift the simulation's draws.
	feedPCG *rand.PCG
	feed    *rand.Rand

	// per patient
	idx        int
	pid        rid
	pidb       []byte // Patient.id: pid, or the canary in pidbuf
	pidbuf     []byte
	covSeq     int // coverages written for the patient (canary member ids)
	recSeq     int // resource ids drawn for the patient (canary record ids)
	birth      int64
	death      int64 // 0 = alive at export
	sex        string
	clinic     int
	cond       [nConds]int64 // onset, 0 = none
	resolved   [nConds]bool
	nChronic   int
	treated    [nClasses]int // 0 untreated, 1 treated with fills, 2 never filled
	adherence  float64
	pattern    int
	fills      [nClasses][]span
	contacts   [2]*contact
	ct         [2]contact
	msgs       []message
	events     []event
	eventSeq   int // distinct delivery events of the patient so far
	consents   []consentRec
	consentSeq int // consent records written for the patient so far
	surveys    []survey
	appts      []appt
	delivered  []int64
	reqs       []medReq
	noA1c      bool
	lastA1c    int64
	sat        float64
	noshowProp float64
	scratch    []byte
}

func newGen(w *world) *gen {
	pcg, feed := rand.NewPCG(0, 0), rand.NewPCG(0, 0)
	return &gen{w: w, pcg: pcg, r: rand.New(pcg), feedPCG: feed, feed: rand.New(feed)}
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// --- random helpers ----------------------------------------------------------

func (g *gen) chance(p float64) bool { return g.r.Float64() < p }
func (g *gen) intn(n int) int        { return g.r.IntN(n) }

// between returns a uniform time in [a, b); a when the range is empty.
func (g *gen) between(a, b int64) int64 {
	if b <= a {
		return a
	}
	return a + g.r.Int64N(b-a)
}

func (g *gen) uniform(a, b float64) float64 { return a + (b-a)*g.r.Float64() }

func (g *gen) poisson(lambda float64) int {
	if lambda <= 0 {
		return 0
	}
	if lambda > 30 {
		n := int(math.Round(lambda + math.Sqrt(lambda)*g.r.NormFloat64()))
		return max(n, 0)
	}
	l, k, p := math.Exp(-lambda), 0, 1.0
	for {
		p *= g.r.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

func (g *gen) pickCum(cum []int) int {
	v := g.intn(cum[len(cum)-1])
	return sort.SearchInts(cum, v+1)
}

func (g *gen) pick(list []string) string { return list[g.intn(len(list))] }

func (g *gen) newID() (id rid) {
	appendUUID(id[:0], g.r.Uint64(), g.r.Uint64())
	if g.w.canaries {
		g.canaryRecordID(&id)
	}
	return id
}

func cumulative(w []int) []int {
	c := make([]int, len(w))
	s := 0
	for i, v := range w {
		s += v
		c[i] = s
	}
	return c
}

func logistic(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// slot moves t to a bookable slot: a weekday (or the export day) between
// 13:00 and 21:45 UTC (8:00–16:45 US Eastern) on a quarter hour.
func (g *gen) slot(t int64) int64 {
	d := floorDay(t)
	if d != g.w.exportDay {
		switch (d/day + 4) % 7 { // 0 = Sunday
		case 6:
			d += 2 * day
		case 0:
			d += day
		}
	}
	return d + 13*hour + int64(g.intn(36))*15*minute
}

// daytime returns a time on t's day between from and to hours UTC.
func (g *gen) daytime(t int64, fromH, toH int) int64 {
	return floorDay(t) + int64(fromH)*hour + g.r.Int64N(int64(toH-fromH)*hour)
}

// ageAt returns the patient's age in years at t.
func (g *gen) ageAt(t int64) float64 { return float64(t-g.birth) / yearSec }

// alive reports whether the patient is alive at t.
func (g *gen) alive(t int64) bool { return g.death == 0 || t < g.death }

// has reports whether the patient has condition c (active) at t.
func (g *gen) has(c int, t int64) bool { return g.cond[c] != 0 && g.cond[c] <= t && !g.resolved[c] }

// coverage returns the share of the window days before t covered by fills of
// class k.
func (g *gen) coverage(k int, t int64) float64 {
	switch g.treated[k] {
	case 0: // managed without drugs (diet, lifestyle): moderate control
		return 0.8
	case 2: // prescribed, never filled
		return 0
	}
	win := int64(g.w.p.Adherence.RecentCoverageWindow) * day
	lo := t - win
	var covered, reach int64 = 0, lo
	for _, s := range g.fills[k] {
		a, b := max(s.from, reach), min(s.to, t)
		if b > a {
			covered += b - a
			reach = b
		}
	}
	return float64(covered) / float64(win)
}

// --- one patient -----------------------------------------------------------------

// patient simulates patient i and appends its records to c.
func (g *gen) patient(c *chunk, i int) {
	w := g.w
	s1 := splitmix(w.seed ^ splitmix(uint64(i)))
	g.pcg.Seed(s1, splitmix(s1^0x5851f42d4c957f2d))
	s2 := splitmix(s1 ^ 0x6a09e667f3bcc909)
	g.feedPCG.Seed(s2, splitmix(s2^0xbb67ae8584caa73b))
	g.idx = i
	g.msgs, g.surveys, g.appts, g.delivered, g.reqs = g.msgs[:0], g.surveys[:0], g.appts[:0], g.delivered[:0], g.reqs[:0]
	g.events, g.eventSeq, g.consentSeq = g.events[:0], 0, 0
	for k := range g.fills {
		g.fills[k] = g.fills[k][:0]
		g.treated[k] = 0
	}
	g.contacts = [2]*contact{}
	g.lastA1c = 0
	g.covSeq, g.recSeq = 0, 0

	g.demographics(c)
	g.preventiveOutreach()
	g.medications(c)
	g.acute(c)
	g.appointments(c)
	g.emitMessages(c)
	g.emitConsents(c)
	c.patients++
}

// mrnNumber maps a patient index to an 8-digit MRN number (a bijection on
// 10,000,000..89,999,999 for indexes below 80 million).
func mrnNumber(i int) int64 { return 10_000_000 + (int64(i)*7_919_113+1_234_567)%80_000_000 }

// unmatchedMRN maps a patient index to an MRN number no patient has.
func unmatchedMRN(i int) int64 { return 90_000_000 + (int64(i)*7_919_113+7_654_321)%10_000_000 }

func contactNumber(i int) int64 { return 10_000_000 + (int64(i)*3_141_593+2_718_281)%90_000_000 }

func (g *gen) demographics(c *chunk) {
	w, p := g.w, &g.w.p
	g.pid = g.newID()
	g.pidb = g.pid[:]
	k := 2 * g.idx // the patient's canary person number
	if w.canaries {
		g.pidbuf = appendCanary(g.pidbuf[:0], 'P', k)
		g.pidb = g.pidbuf
	}

	switch u := g.r.Float64(); {
	case u < 0.505:
		g.sex = "female"
	case u < 0.99:
		g.sex = "male"
	case u < 0.995:
		g.sex = "other"
	default:
		g.sex = "unknown"
	}
	band := g.pickCum(ageBandCum)
	age := ageBands[band][0] + g.intn(ageBands[band][1]-ageBands[band][0]+1)
	base := w.exportDay - int64(g.intn(365))*day
	y, m, d := civil(base / day)
	g.birth = daysFromCivil(y-age, m, d) * day

	given, family := g.name(g.sex)
	var middle string
	if g.chance(0.3) {
		middle, _ = g.name(g.sex)
	}
	if w.canaries {
		given, family = canary('G', k), canary('F', k)
		if middle != "" {
			middle = canary('M', k)
		}
	}
	ar := &areas[g.pickCum(w.areaCum)]
	g.clinic = g.pickCum(w.clinicCum)

	// Conditions, prevalence rising with age at the export.
	ageNow := g.ageAt(w.export)
	g.cond = [nConds]int64{}
	g.resolved = [nConds]bool{}
	for k := 0; k < nConds; k++ {
		pr := prevalence(k, ageNow)
		switch k {
		case condDM:
			if g.cond[condHTN] != 0 {
				pr *= 1.6
			}
		case condHLD:
			if g.cond[condDM] != 0 {
				pr *= 1.3
			}
		case condCKD:
			if g.cond[condDM] != 0 {
				pr *= 2
			}
			if g.cond[condHTN] != 0 {
				pr *= 1.5
			}
		}
		if !g.chance(pr) {
			continue
		}
		minAge := [nConds]float64{18, 20, 18, 1, 30}[k]
		span := min(20, ageNow-minAge)
		if span < 0.3 {
			span = ageNow * 0.8
		}
		yearsAgo := g.r.Float64() * span
		onset := w.export - int64(yearsAgo*yearSec)
		onset = floorDay(onset) + int64(9+g.intn(8))*hour + int64(g.intn(60))*minute
		if onset < g.birth+30*day {
			onset = g.birth + 30*day
		}
		if onset > w.export {
			continue
		}
		g.cond[k] = onset
		if k == condAsthma && yearsAgo > 3 && g.chance(0.25) {
			g.resolved[k] = true
		}
	}
	g.nChronic = 0
	for k := 0; k < nConds; k++ {
		if g.cond[k] != 0 && !g.resolved[k] {
			g.nChronic++
		}
	}

	// Death within the window.
	g.death = 0
	h := p.Acute.DeathProbUnder75PerYear
	if ageNow >= 75 {
		h = p.Acute.DeathProbOver75PerYear
		if ageNow >= 90 {
			h *= 2.5
		}
	}
	h += p.Acute.DeathProbPerConditionYear * float64(g.nChronic)
	if ageNow >= 1 && g.chance(1-math.Exp(-h*w.windowYear)) {
		g.death = g.between(max(w.from, g.birth+day), w.export-day)
		for k := range g.cond {
			if g.cond[k] > g.death {
				g.cond[k] = 0
			}
		}
	}

	// Adherence pattern (a patient trait).
	a := &p.Adherence
	switch u := g.r.Float64(); {
	case u < a.AdherentShare:
		g.pattern, g.adherence = 0, g.uniform(a.AdherentMin, 0.995)
	case u < a.AdherentShare+a.PartialShare:
		g.pattern, g.adherence = 1, g.uniform(a.PartialMin, a.PartialMax)
	default:
		g.pattern, g.adherence = 2, g.uniform(a.AdherentMin, 0.995)
	}
	g.noA1c = g.chance(p.HbA1c.NeverTestedShare)
	g.sat = g.r.NormFloat64()
	g.noshowProp = g.r.NormFloat64() * p.Appointments.NoshowPatientSD

	// Patient resource.
	b := c.buf[fPatient]
	b = append(b, `{"resourceType":"Patient","id":"`...)
	b = append(b, g.pidb...)
	b = append(b, `","identifier":[{"use":"usual","type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0203","code":"MR"}]},"system":"urn:oid:2.16.840.1.113883.19.5","value":"`...)
	mrn := len(b)
	if w.canaries {
		b = appendCanary(b, 'R', k)
	} else {
		b = append(b, "MRN"...)
		b = appendPadded(b, mrnNumber(g.idx), 8)
	}
	mrnEnd := len(b)
	b = append(b, `"},{"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0203","code":"SS"}]},"system":"http://hl7.org/fhir/sid/us-ssn","value":"`...)
	area, group, serial := g.intn(100), 1+g.intn(99), 1+g.intn(9999)
	ssn := len(b)
	if w.canaries {
		b = appendCanarySSN(b, k)
	} else {
		b = append(b, '9')
		b = appendPadded(b, int64(area), 2)
		b = append(b, '-')
		b = appendPadded(b, int64(group), 2)
		b = append(b, '-')
		b = appendPadded(b, int64(serial), 4)
	}
	ssnEnd := len(b)
	b = append(b, `"}],"name":[{"use":"official","family":`...)
	b = appendQuoted(b, family)
	b = append(b, `,"given":[`...)
	b = appendQuoted(b, given)
	if middle != "" {
		b = append(b, ',')
		b = appendQuoted(b, middle)
	}
	phone := g.phone(ar.phone)
	email := g.email(given, family)
	if w.canaries {
		phone, email = string(appendCanaryPhone(nil, k)), string(appendCanaryEmail(nil, k))
	}
	b = append(b, `]}],"telecom":[{"system":"phone","value":"`...)
	b = append(b, phone...)
	b = append(b, `","use":"home"},{"system":"email","value":`...)
	b = appendQuoted(b, email)
	b = append(b, `}],"gender":"`...)
	b = append(b, g.sex...)
	b = append(b, `","birthDate":"`...)
	b = appendDate(b, g.birth)
	b = append(b, '"')
	if g.death != 0 {
		b = append(b, `,"deceasedDateTime":"`...)
		b = appendTS(b, g.death)
		b = append(b, '"')
	}
	b = append(b, `,"address":[{"use":"home","line":["`...)
	b = appendInt(b, int64(1+g.intn(1+g.intn(9999))))
	b = append(b, ' ')
	if street := g.pick(streetNames); w.canaries {
		b = appendCanary(b, 'S', k)
	} else {
		b = append(b, street...)
	}
	b = append(b, ' ')
	b = append(b, g.pick(streetSuffixes)...)
	b = append(b, '"')
	if g.chance(0.2) {
		b = append(b, `,"Apt `...)
		b = appendInt(b, int64(1+g.intn(40)))
		b = append(b, "ABCD"[g.intn(4)])
		b = append(b, '"')
	}
	b = append(b, `],"city":`...)
	if w.canaries {
		b = appendQuoted(b, canary('T', k))
	} else {
		b = appendQuoted(b, ar.city)
	}
	b = append(b, `,"state":"`...)
	b = append(b, ar.state...)
	b = append(b, `","postalCode":"`...)
	b = append(b, ar.zip3...)
	b = appendPadded(b, int64(1+g.intn(99)), 2)
	b = append(b, `","country":"US"}],"managingOrganization":{"reference":"Organization/`...)
	b = append(b, clinics[g.clinic].ID...)
	b = append(b, "\"}}\n"...)
	c.buf[fPatient] = b
	c.lines[fPatient]++
	if w.canaries {
		c.noteCanary(g.pidb)
		c.noteCanaryString(given)
		if middle != "" {
			c.noteCanaryString(middle)
		}
		c.noteCanaryString(family)
		c.noteCanary(b[mrn:mrnEnd])
		c.noteCanary(b[ssn:ssnEnd])
		c.noteCanaryString(phone)
		c.noteCanaryString(email)
		c.noteCanary(appendCanary(g.scratch[:0], 'S', k))
		c.noteCanary(appendCanary(g.scratch[:0], 'T', k))
		c.noteCanary(appendCanary(g.scratch[:0], 'X', k)) // every Coverage, at least, has such an id
	}

	g.emitConditions(c)
	g.coverageRecords(c)

	// CRM contact carrying the MRN.
	if g.chance(p.Outreach.ContactShare) {
		ct := &g.ct[0]
		g.fillContact(ct, given, family, phone, email)
		ct.id = "C" + string(appendPadded(nil, contactNumber(g.idx), 8))
		ct.mrn = "MRN" + string(appendPadded(nil, mrnNumber(g.idx), 8))
		if w.canaries {
			ct.ck, ct.id, ct.mrn = k, canary('C', k), canary('R', k)
			c.noteCanaryString(ct.id)
		}
		g.consentChanges(ct)
		g.contacts[0] = ct
		g.emitContact(c, ct)
	}
	// Now and then a contact whose MRN matches no patient (a typo, a patient
	// of another system).
	if g.chance(p.Outreach.UnmatchedContactShare) {
		ct := &g.ct[1]
		sx := "female"
		if g.chance(0.5) {
			sx = "male"
		}
		gv, fm := g.name(sx)
		ar2 := &areas[g.pickCum(w.areaCum)]
		ph := g.phone(ar2.phone)
		em := g.email(gv, fm)
		k1 := k + 1 // the unmatched contact's canary person number
		if w.canaries {
			gv, fm = canary('G', k1), canary('F', k1)
			ph, em = string(appendCanaryPhone(nil, k1)), string(appendCanaryEmail(nil, k1))
		}
		g.fillContact(ct, gv, fm, ph, em)
		ct.id = "C9" + string(appendPadded(nil, contactNumber(g.idx), 8))
		ct.mrn = "MRN" + string(appendPadded(nil, unmatchedMRN(g.idx), 8))
		if w.canaries {
			ct.ck, ct.id, ct.mrn = k1, canary('C', k1), canary('R', k1)
			for _, s := range []string{gv, fm, ct.mrn, ph, em, ct.id} {
				c.noteCanaryString(s)
			}
		}
		g.consentChanges(ct)
		g.contacts[1] = ct
		g.emitContact(c, ct)
		c.unmatched++
	}
}

var (
	ageBands   = [][2]int{{0, 17}, {18, 44}, {45, 64}, {65, 74}, {75, 89}, {90, 100}}
	ageBandCum = cumulative([]int{180, 330, 270, 120, 85, 15})
)

func prevalence(k int, age float64) float64 {
	var t [4]float64 // <18, <45, <65, 65+
	switch k {
	case condHTN:
		t = [4]float64{0.005, 0.10, 0.35, 0.60}
	case condDM:
		t = [4]float64{0.002, 0.03, 0.12, 0.20}
	case condHLD:
		t = [4]float64{0, 0.08, 0.28, 0.45}
	case condAsthma:
		t = [4]float64{0.09, 0.08, 0.08, 0.07}
	case condCKD:
		t = [4]float64{0, 0.005, 0.03, 0.09}
	}
	switch {
	case age < 18:
		return t[0]
	case age < 45:
		return t[1]
	case age < 65:
		return t[2]
	}
	return t[3]
}

func (g *gen) name(sex string) (given, family string) {
	switch sex {
	case "female":
		given = g.pick(femaleNames)
	case "male":
		given = g.pick(maleNames)
	default:
		if g.chance(0.5) {
			given = g.pick(femaleNames)
		} else {
			given = g.pick(maleNames)
		}
	}
	return given, g.pick(familyNames)
}

// phone returns a number in the fictional 555-0100..0199 range.
func (g *gen) phone(areaCode string) string {
	b := g.scratch[:0]
	b = append(b, areaCode...)
	b = append(b, "-555-01"...)
	b = appendPadded(b, int64(g.intn(100)), 2)
	g.scratch = b
	return string(b)
}

// email returns an address at a reserved example domain.
func (g *gen) email(given, family string) string {
	b := g.scratch[:0]
	b = appendASCIILower(b, given)
	b = append(b, '.')
	b = appendASCIILower(b, family)
	if g.chance(0.6) {
		b = appendInt(b, int64(g.intn(100)))
	}
	b = append(b, '@')
	b = append(b, g.pick(emailDomains)...)
	g.scratch = b
	return string(b)
}

// appendASCIILower appends s lowercased, accents stripped, letters only.
func appendASCIILower(b []byte, s string) []byte {
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z':
			b = append(b, byte(r))
		case r >= 'A' && r <= 'Z':
			b = append(b, byte(r-'A'+'a'))
		case r == 'é' || r == 'ë' || r == 'è':
			b = append(b, 'e')
		case r == 'á' || r == 'à':
			b = append(b, 'a')
		case r == 'ó' || r == 'ö':
			b = append(b, 'o')
		case r == 'ü' || r == 'ú':
			b = append(b, 'u')
		case r == 'í':
			b = append(b, 'i')
		}
	}
	return b
}

func (g *gen) fillContact(ct *contact, given, family, phone, email string) {
	w := g.w
	*ct = contact{given: given, family: family, phone: phone, email: email}
	switch u := g.intn(100); {
	case u < 45:
		ct.preferred = chSMS
	case u < 75:
		ct.preferred = chEmail
	case u < 90:
		ct.preferred = chPortal
	default:
		ct.preferred = chVoice
	}
	ct.optOut = [3]bool{g.chance(0.08), g.chance(0.06), g.chance(0.15)}
	ct.portal = g.chance(0.55) || ct.preferred == chPortal
	if ct.preferred < 3 {
		ct.optOut[ct.preferred] = false
	}
	switch u := g.intn(100); {
	case u < 84:
		ct.lang = "en"
	case u < 96:
		ct.lang = "es"
	case u < 98:
		ct.lang = "zh"
	default:
		ct.lang = "vi"
	}
	ct.created = max(w.from-int64(30+g.intn(5*365))*day, g.birth+day) + int64(g.intn(86400))
	ct.updated = g.between(ct.created, w.export)
}

func (g *gen) emitContact(c *chunk, ct *contact) {
	b := c.buf[fContacts]
	b = append(b, ct.id...)
	b = append(b, ',')
	b = append(b, ct.mrn...)
	b = append(b, ',')
	b = appendCSV(b, ct.given)
	b = append(b, ',')
	b = appendCSV(b, ct.family)
	b = append(b, ',')
	b = appendCSV(b, ct.email)
	b = append(b, ',')
	b = append(b, ct.phone...)
	b = append(b, ',')
	b = append(b, channels[ct.preferred]...)
	for _, v := range ct.optOut {
		b = append(b, ',')
		b = appendBool(b, v)
	}
	b = append(b, ',')
	b = appendBool(b, ct.portal)
	b = append(b, ',')
	b = append(b, ct.lang...)
	b = append(b, ',')
	b = appendTS(b, ct.created)
	b = append(b, ',')
	b = appendTS(b, ct.updated)
	b = append(b, '\n')
	c.buf[fContacts] = b
	c.lines[fContacts]++
}

func (g *gen) emitConditions(c *chunk) {
	for k := 0; k < nConds; k++ {
		onset := g.cond[k]
		if onset == 0 {
			continue
		}
		cd := &conditions[k]
		id := g.newID()
		b := c.buf[fCondition]
		b = append(b, `{"resourceType":"Condition","id":"`...)
		b = append(b, id[:]...)
		b = append(b, `","clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"`...)
		if g.resolved[k] {
			b = append(b, "resolved"...)
		} else {
			b = append(b, "active"...)
		}
		b = append(b, `"}]},"verificationStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-ver-status","code":"confirmed"}]},"category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-category","code":"problem-list-item","display":"Problem List Item"}]}],"code":{"coding":[{"system":"http://snomed.info/sct","code":"`...)
		b = append(b, cd.snomed...)
		b = append(b, `","display":"`...)
		b = append(b, cd.snomedName...)
		b = append(b, `"},{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"`...)
		b = append(b, cd.icd...)
		b = append(b, `","display":"`...)
		b = append(b, cd.icdName...)
		b = append(b, `"}]},"subject":{"reference":"Patient/`...)
		b = append(b, g.pidb...)
		b = append(b, `"},"onsetDateTime":"`...)
		b = appendTS(b, onset)
		b = append(b, '"')
		if g.resolved[k] {
			b = append(b, `,"abatementDateTime":"`...)
			b = appendTS(b, g.between(onset+365*day, g.w.export-30*day))
			b = append(b, '"')
		}
		b = append(b, `,"recordedDate":"`...)
		b = appendTS(b, min(onset+int64(g.intn(30))*day, g.w.export))
		b = append(b, "\"}\n"...)
		c.buf[fCondition] = b
		c.lines[fCondition]++
	}
}

// coverageRecords writes the patient's Coverage: a payer correlated with age,
// a switch to Medicare at 65, and now and then a change of payer.
func (g *gen) coverageRecords(c *chunk) {
	w := g.w
	ageFrom := g.ageAt(w.from)
	choose := func(age float64) int {
		u := g.intn(100)
		switch {
		case age >= 65:
			if u < 85 {
				return payMedicare
			} else if u < 90 {
				return payMedicaid
			}
			return payBluestone + g.intn(3)
		case age < 18:
			if u < 42 {
				return payMedicaid
			} else if u < 97 {
				return payBluestone + g.intn(3)
			}
			return paySelf
		default:
			if u < 25 {
				return payMedicaid
			} else if u < 87 {
				return payBluestone + g.intn(3)
			} else if u < 92 {
				return payMedicare
			}
			return paySelf
		}
	}
	pay := choose(ageFrom)
	start := max(g.birth, w.from-int64(g.intn(8*365))*day)
	var change int64
	next := -1
	at65 := g.birth + int64(65*yearSec)
	switch {
	case pay != payMedicare && at65 > w.from && at65 < w.export && g.chance(0.85):
		y, m, _ := civil(at65 / day)
		change, next = daysFromCivil(y, m, 1)*day, payMedicare
		if change <= w.from {
			change, next = 0, -1
		}
	case g.chance(0.05):
		change = floorDay(g.between(w.from+30*day, w.export-30*day))
		next = choose(g.ageAt(change))
		if next == pay {
			next = (pay + 1) % len(payers)
		}
	}
	end := int64(0)
	if change != 0 {
		end = change - day
	}
	g.emitCoverage(c, pay, start, end)
	if change != 0 {
		g.emitCoverage(c, next, change, 0)
	}
}

func (g *gen) emitCoverage(c *chunk, pay int, start, end int64) {
	py := &payers[pay]
	id := g.newID()
	b := c.buf[fCoverage]
	b = append(b, `{"resourceType":"Coverage","id":"`...)
	b = append(b, id[:]...)
	b = append(b, `","status":"active","type":{"coding":[{"system":"urn:oid:2.16.840.1.113883.3.221.5","code":"`...)
	b = append(b, py.sop...)
	b = append(b, `","display":"`...)
	b = append(b, py.sopName...)
	b = append(b, `"}]},"subscriberId":"`...)
	if member := g.r.Uint32() % 1_000_000_000; g.w.canaries {
		g.covSeq++
		at := len(b)
		b = appendCanary(b, 'H', 2*g.idx)
		b = append(b, '-')
		b = appendInt(b, int64(g.covSeq))
		c.noteCanary(b[at:])
	} else {
		b = append(b, py.prefix...)
		b = appendPadded(b, int64(member), 9)
	}
	b = append(b, `","beneficiary":{"reference":"Patient/`...)
	b = append(b, g.pidb...)
	b = append(b, `"},"relationship":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/subscriber-relationship","code":"self"}]},"period":{"start":"`...)
	b = appendDate(b, start)
	b = append(b, '"')
	if end != 0 {
		b = append(b, `,"end":"`...)
		b = appendDate(b, end)
		b = append(b, '"')
	}
	b = append(b, `},"payor":[{"reference":"`...)
	if py.id == "" { // self-pay: the patient pays
		b = append(b, "Patient/"...)
		b = append(b, g.pidb...)
	} else {
		b = append(b, "Organization/"...)
		b = append(b, py.id...)
	}
	b = append(b, `","display":"`...)
	b = append(b, py.name...)
	b = append(b, "\"}]}\n"...)
	c.buf[fCoverage] = b
	c.lines[fCoverage]++
}
