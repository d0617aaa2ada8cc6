package metrics

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/carelens/carelens/etl"
	"github.com/carelens/carelens/etl/deid"
	"github.com/carelens/carelens/etl/synth"
	"github.com/carelens/carelens/internal/store"
)

// TestGeneratedDynamics: on a generated population loaded through the real
// ETL, the shipped metrics recover the effects the generator planted
// (truth.json params, docs/generator.md "The model"): reminders lower
// no-shows, adherence tracks glycemic and blood-pressure control, and the
// planted follow-up, readmission, late-cancellation and outreach rates.
//
// Every tolerance is derived from the model, never from the observed value:
// a sampling band of ±3 (±4 for families of many cells) cluster-robust
// standard errors, where the unit (an appointment, a discharge, a
// patient-year) is clustered by patient, plus a stated allowance for what the
// metric measures differently from the model's parameter (confounding,
// non-collapsibility, a proxy), each explained at its check. The
// population is fixed (seed 1, 6,000 patients, 2024-01-01..2025-12-31) so
// the test is deterministic; its size keeps the whole test near 13 s of CPU
// (seeds 2-5 pass too).
// The figures are logged (go test -v) for the record. Not checked: survey
// answers (NPS, CAHPS), whose satisfaction model has no parameter in
// truth.json (the survey response rate is checked with the funnel), and
// the refill-reminder conversion, whose effect depends on when the refill
// would have come anyway.
func TestGeneratedDynamics(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and loads a population")
	}
	w := loadGeneratedWorld(t)

	t.Run("reminders_lower_no_shows", func(t *testing.T) { w.checkReminders(t) })
	t.Run("adherence_tracks_glycemic_control", func(t *testing.T) { w.checkGlycemic(t) })
	t.Run("adherence_tracks_bp_control", func(t *testing.T) { w.checkBP(t) })
	t.Run("follow_up_after_discharge", func(t *testing.T) { w.checkFollowUp(t) })
	t.Run("readmission_30d", func(t *testing.T) { w.checkReadmission(t) })
	t.Run("late_cancellation", func(t *testing.T) { w.checkLateCancellation(t) })
	t.Run("outreach_funnel", func(t *testing.T) { w.checkOutreach(t) })
	t.Run("primary_nonadherence", func(t *testing.T) { w.checkPrimaryNonadherence(t) })
}

const (
	dynPatients = 6000
	dynSeed     = 1
)

// dynMetrics are the metrics the checks read. Only these are loaded and
// refreshed: the others (prevalence, conversions) cost most of a full
// refresh and are not needed here.
var dynMetrics = []string{
	"reminder_no_show_rate",
	"pdc_diabetes", "pdc_ras",
	"gsd_glycemic_controlled", "cms122_glycemic_poor_control", "cms165_bp_controlled",
	"follow_up_7d", "follow_up_30d", "readmission_30d",
	"late_cancellation_rate",
	"outreach_delivered_rate", "outreach_opened_rate", "outreach_response_rate",
	"primary_nonadherence",
}

// dynEcqmBundles are the official eCQM value-set bundles, beside the checkout
// in ../shared (data/ecqm/SOURCE.md), that the CMS122/GSD and CMS165 metrics
// need.
var dynEcqmBundles = map[string]string{
	"CMS122": filepath.Join("..", "..", "shared", "data", "ecqm", "CMS122", "valuesets-*.json"),
	"CMS165": filepath.Join("..", "..", "shared", "data", "ecqm", "CMS165", "valuesets-*.json"),
}

// generatedWorld is a generated population loaded into a warehouse, with an
// engine over the metrics of dynMetrics that exist, refreshed.
type generatedWorld struct {
	db     *store.DB
	reg    *Registry
	e      *Engine
	p      synth.Params
	from   time.Time       // first day of the window
	export time.Time       // the export day (the window's last day); appointments on it are still under way
	ecqm   map[string]bool // eCQM value-set bundles loaded
}

func loadGeneratedWorld(t *testing.T) *generatedWorld {
	t.Helper()
	ctx := context.Background()
	start := time.Now()
	w := &generatedWorld{
		from:   time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
		export: time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC),
		ecqm:   map[string]bool{},
	}
	dir := t.TempDir()
	if _, err := synth.Generate(ctx, synth.Options{Patients: dynPatients, Seed: dynSeed, OutDir: dir, From: w.from, To: w.export}); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "truth.json"))
	if err != nil {
		t.Fatal(err)
	}
	var truth synth.Truth
	if err := json.Unmarshal(raw, &truth); err != nil {
		t.Fatalf("truth.json: %v", err)
	}
	w.p = truth.Params
	generated := time.Since(start)

	w.db = openStore(t)
	key, err := deid.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	vault, err := deid.OpenEncrypted(filepath.Join(t.TempDir(), "vault"), key)
	if err != nil {
		t.Fatal(err)
	}
	res, err := etl.NewFilesJob(etl.FilesOptions{Dir: dir, DB: w.db, Vault: vault, Profile: deid.ProfileLimited}).Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Quarantined != 0 {
		t.Fatalf("load quarantined %d lines of a clean population", res.Quarantined)
	}
	loaded := time.Since(start)

	paths := []string{"valuesets"}
	for name, glob := range dynEcqmBundles {
		if files, _ := filepath.Glob(glob); len(files) > 0 {
			paths = append(paths, files...)
			w.ecqm[name] = true
		}
	}
	vs, err := etl.NewValueSetJob(etl.ValueSetOptions{Paths: paths, DB: w.db}).Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if vs.Quarantined != 0 {
		t.Fatalf("value sets: %d quarantined", vs.Quarantined)
	}

	fsys := fstest.MapFS{}
	for _, name := range dynMetrics {
		if b, err := fs.ReadFile(Builtin, name+".sql"); err == nil {
			fsys[name+".sql"] = &fstest.MapFile{Data: b}
		}
	}
	macros, err := fs.Glob(Builtin, MacroDir+"/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range macros {
		b, err := fs.ReadFile(Builtin, m)
		if err != nil {
			t.Fatal(err)
		}
		fsys[m] = &fstest.MapFile{Data: b}
	}
	reg, errs := Load(ctx, fsys, w.db)
	for _, err := range errs {
		t.Error(err)
	}
	if reg == nil {
		t.FailNow()
	}
	w.reg = reg
	w.e = NewEngine(w.db, reg, EngineOptions{})
	rep, err := w.e.Refresh(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range rep.Failed() {
		t.Errorf("refresh %s on generated data: %v", m.Metric, m.Err)
	}
	t.Logf("%d patients (seed %d): generated in %v, loaded (%d records) by %v, %d metrics refreshed by %v",
		dynPatients, dynSeed, generated.Round(time.Millisecond), res.Loaded, loaded.Round(time.Millisecond),
		len(rep.Metrics), time.Since(start).Round(time.Millisecond))
	return w
}

// need skips the test unless every metric named is in the registry.
func (w *generatedWorld) need(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, ok := w.reg.Get(n); !ok {
			t.Skipf("metric %s not present yet", n)
		}
	}
}

// has reports whether the metric is in the registry.
func (w *generatedWorld) has(name string) bool {
	_, ok := w.reg.Get(name)
	return ok
}

// members returns a metric's membership over the window.
func (w *generatedWorld) members(t *testing.T, name string) []Member {
	t.Helper()
	ms, _, err := w.e.Members(context.Background(), name, w.from, w.export)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

// rate returns a ratio metric's members with period_date from..to as one
// cluster group (by patient): its value and standard error.
func (w *generatedWorld) rate(t *testing.T, name string, to time.Time) (p, se, n float64) {
	t.Helper()
	c := newDynClusters()
	for _, m := range w.members(t, name) {
		if !m.PeriodDate.After(to) && m.Denominator > 0 {
			c.add(m.PatientID, 0, m.Numerator, m.Denominator)
		}
	}
	mean, ns, cov := c.est()
	return mean[0], math.Sqrt(cov[0][0]), ns[0]
}

// queryFloats runs a query on a connection with the registry's macros and
// returns its single row of numbers.
func (w *generatedWorld) queryFloats(t *testing.T, query string, dst ...*float64) {
	t.Helper()
	err := withConn(context.Background(), w.db, w.reg, func(conn *sql.Conn) error {
		ptrs := make([]any, len(dst))
		vals := make([]sql.NullFloat64, len(dst))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := conn.QueryRowContext(context.Background(), query).Scan(ptrs...); err != nil {
			return err
		}
		for i, v := range vals {
			*dst[i] = v.Float64
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// --- reminders ---------------------------------------------------------------

// checkReminders: reminder_no_show_rate by reminded. A due appointment is a
// no-show with probability logistic(b0 + b_lead × lead weeks + β × R + u)
// (docs/generator.md), R = a delivered reminder in the 7 days before, which
// is the metric's own definition. The observed (marginal) log odds ratio is
// not β itself:
//   - non-collapsibility: averaging over the patient trait u ~ N(0, 0.7) and
//     the spread of lead times pulls a marginal log odds ratio towards 0;
//   - confounding by lead time: a reminder goes out 1–3 days before the start
//     and not earlier than booking + 1 h, so appointments booked a day or
//     three ahead often cannot get one; they have the shortest leads and the
//     fewest no-shows, which makes the unreminded look better.
//
// reminderExpectation integrates the model over both (the documented lead
// mixture, reminder day uniform in 1..3, u normal) and gives the marginal log
// odds ratio the model implies (≈ −0.58 for β = −0.7; a 40,000-patient run
// measured −0.565). The band runs from β to that value, widened by 3
// cluster-robust standard errors on each side and by 0.05 for what the
// integration leaves out (follow-up and prompted visits booked with other
// leads, reminders sent for the patient's other appointments, the times of
// day of booking and reminder).
func (w *generatedWorld) checkReminders(t *testing.T) {
	w.need(t, "reminder_no_show_rate")
	ap := w.p.Appointments
	to := w.export.AddDate(0, 0, -1) // the export day's appointments are still under way
	res, err := w.e.Compute(context.Background(), "reminder_no_show_rate",
		Query{From: w.from, To: to, Grain: GrainNone, By: []string{"reminded"}})
	if err != nil {
		t.Fatal(err)
	}
	var num, den [2]float64 // 1 = reminded
	for _, r := range res.Rows {
		switch r.Dims[0] {
		case "yes":
			num[1], den[1] = r.Numerator, r.Denominator
		case "no":
			num[0], den[0] = r.Numerator, r.Denominator
		default:
			t.Errorf("reminded = %q, want yes or no", r.Dims[0])
		}
	}
	if den[0] == 0 || den[1] == 0 {
		t.Fatalf("reminded %v / not reminded %v appointments: need both", den[1], den[0])
	}
	p1, p0 := num[1]/den[1], num[0]/den[0]

	// Cluster-robust standard error of the log odds ratio, from the
	// materialised membership (appointments of the same patient share u).
	c := newDynClusters()
	rows, err := w.db.QueryContext(context.Background(), `SELECT patient_id, reminded, sum(numerator), sum(denominator)
		FROM `+memberTable("reminder_no_show_rate")+` WHERE period_date BETWEEN CAST(? AS DATE) AND CAST(? AS DATE) GROUP BY ALL`, day(w.from), day(to))
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, rem string
		var y, n float64
		if err := rows.Scan(&id, &rem, &y, &n); err != nil {
			t.Fatal(err)
		}
		g := 0
		if rem == "yes" {
			g = 1
		}
		c.add(id, g, y, n)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	mean, _, cov := c.est()
	if math.Abs(mean[1]-p1) > 1e-9 || math.Abs(mean[0]-p0) > 1e-9 {
		t.Errorf("membership rates %.4f/%.4f differ from the computed %.4f/%.4f", mean[1], mean[0], p1, p0)
	}
	d1, d0 := 1/(p1*(1-p1)), -1/(p0*(1-p0))
	se := math.Sqrt(d1*d1*cov[1][1] + d0*d0*cov[0][0] + 2*d1*d0*cov[1][0])
	logOR := dynLogit(p1) - dynLogit(p0)

	share := den[1] / (den[0] + den[1])
	e1, e0, expLogOR := reminderExpectation(ap, share)
	lo := math.Min(ap.ReminderLogOdds, expLogOR) - 3*se - 0.05
	hi := math.Max(ap.ReminderLogOdds, expLogOR) + 3*se + 0.05
	t.Logf("no-show with a delivered reminder %.4f (%v of %v), without %.4f (%v of %v); model expects %.4f and %.4f",
		p1, num[1], den[1], p0, num[0], den[0], e1, e0)
	t.Logf("log odds ratio %.3f (cluster-robust SE %.3f); truth reminder_log_odds %.2f, model-implied marginal %.3f; band [%.3f, %.3f]",
		logOR, se, ap.ReminderLogOdds, expLogOR, lo, hi)
	if p1 >= p0 {
		t.Errorf("no-show rate with a reminder %.4f is not below the rate without %.4f", p1, p0)
	}
	if logOR < lo || logOR > hi {
		t.Errorf("log odds ratio %.3f outside [%.3f, %.3f]", logOR, lo, hi)
	}
}

// reminderExpectation integrates the attendance model: the no-show
// probability of reminded and unreminded due appointments and their log odds
// ratio, given the share of appointments reminded. Leads follow the
// documented mixture (lead_short_share 2 h–7 d, lead_medium_share 7–35 d,
// the rest 35–120 d); a reminder is possible when the lead exceeds its
// day (uniform 1..3 days before the start) + 1 h, and then reaches the
// patient with a probability rho fitted to the observed share.
func reminderExpectation(ap synth.AppointmentParams, share float64) (p1, p0, logOR float64) {
	type seg struct{ w, lo, hi float64 } // days
	segs := []seg{
		{ap.LeadShortShare, 2.0 / 24, 7},
		{ap.LeadMediumShare, 7, 35},
		{1 - ap.LeadShortShare - ap.LeadMediumShare, 35, 120},
	}
	const nLead = 1000
	// The eligible share first, to fit rho.
	var eligible float64
	elig := func(d float64) float64 {
		var e float64
		for k := 1; k <= 3; k++ {
			if d > float64(k)+1.0/24 {
				e += 1.0 / 3
			}
		}
		return e
	}
	for _, s := range segs {
		for i := 0; i < nLead; i++ {
			eligible += s.w / nLead * elig(s.lo+(s.hi-s.lo)*(float64(i)+0.5)/nLead)
		}
	}
	rho := math.Min(1, share/eligible)
	var n1, y1, n0, y0 float64
	for _, s := range segs {
		for i := 0; i < nLead; i++ {
			d := s.lo + (s.hi-s.lo)*(float64(i)+0.5)/nLead
			r := rho * elig(d)
			x := ap.NoshowBaseLogit + ap.NoshowLeadPerWeek*d/7
			q1, q0 := dynNormalMean(x+ap.ReminderLogOdds, ap.NoshowPatientSD), dynNormalMean(x, ap.NoshowPatientSD)
			wt := s.w / nLead
			n1 += wt * r
			y1 += wt * r * q1
			n0 += wt * (1 - r)
			y0 += wt * (1 - r) * q0
		}
	}
	p1, p0 = y1/n1, y0/n0
	return p1, p0, dynLogit(p1) - dynLogit(p0)
}

// dynNormalMean returns E[logistic(x + u)], u ~ N(0, sd), by the midpoint rule
// over ±6 sd.
func dynNormalMean(x, sd float64) float64 {
	const n = 120
	var s, tot float64
	for j := 0; j < n; j++ {
		z := -6 + 12*(float64(j)+0.5)/n
		wz := math.Exp(-z * z / 2)
		s += wz * dynLogistic(x+sd*z)
		tot += wz
	}
	return s / tot
}

func dynLogistic(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
func dynLogit(p float64) float64    { return math.Log(p / (1 - p)) }

// dynNormalCDF is Φ.
func dynNormalCDF(x float64) float64 { return 0.5 * math.Erfc(-x/math.Sqrt2) }

// --- adherence and control --------------------------------------------------

// dynKey identifies a patient-year: the patient and the period date (31
// December of the measurement year, for the PDC and eCQM metrics alike).
type dynKey struct {
	patient string
	year    int
}

// dynAdherence is a PDC metric's patient-years: whether adherent (its
// numerator) and, when known, the PDC.
type dynAdherence struct {
	adherent bool
	pdc      float64
	hasPDC   bool
}

// pdcByYear returns metric name's patient-years. The PDC is the member's
// value when the metric returns one; otherwise it is read from the query's
// pdc CTE (covered_days / treatment_days), and when neither works the
// patient-years carry only the adherent flag.
func (w *generatedWorld) pdcByYear(t *testing.T, name string) map[dynKey]dynAdherence {
	t.Helper()
	out := map[dynKey]dynAdherence{}
	for _, m := range w.members(t, name) {
		if m.Denominator == 0 {
			continue
		}
		a := dynAdherence{adherent: m.Numerator > 0}
		if m.Value != nil {
			a.pdc, a.hasPDC = *m.Value, true
		}
		out[dynKey{m.PatientID, m.PeriodDate.Year()}] = a
	}
	d, _ := w.reg.Get(name)
	if d.HasValue {
		return out
	}
	text := trimStatement(d.SQL)
	i := strings.LastIndex(text, "\nSELECT\n")
	if i < 0 {
		t.Logf("%s returns no value and has no final SELECT on a line of its own: PDC values unknown", name)
		return out
	}
	q := text[:i+1] + "SELECT CAST(patient_id AS VARCHAR), year(year_end), CAST(covered_days AS DOUBLE) / treatment_days FROM pdc"
	err := withConn(context.Background(), w.db, w.reg, func(conn *sql.Conn) error {
		rows, err := conn.QueryContext(context.Background(), q)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var k dynKey
			var pdc float64
			if err := rows.Scan(&k.patient, &k.year, &pdc); err != nil {
				return err
			}
			if a, ok := out[k]; ok {
				a.pdc, a.hasPDC = pdc, true
				out[k] = a
			}
		}
		return rows.Err()
	})
	if err != nil {
		t.Logf("%s returns no value and its pdc CTE cannot be read (%v): PDC values unknown", name, err)
	}
	return out
}

// emptyEcqm explains an empty eCQM membership: it counts the patient-years
// with an encounter for which ecqm_qualifying_encounter holds, and lists the
// encounter types in the data.
func (w *generatedWorld) emptyEcqm(t *testing.T) string {
	t.Helper()
	var qualifying float64
	w.queryFloats(t, `SELECT count(*) FROM (SELECT DISTINCT patient_id, year(start_ts) AS y FROM encounters WHERE start_ts IS NOT NULL)
		WHERE ecqm_qualifying_encounter(patient_id, make_date(y, 1, 1), make_date(y, 12, 31))`, &qualifying)
	if qualifying > 0 {
		return fmt.Sprintf("yet %v patient-years have a qualifying encounter (ecqm_qualifying_encounter)", qualifying)
	}
	var types []string
	err := withConn(context.Background(), w.db, w.reg, func(conn *sql.Conn) error {
		rows, err := conn.QueryContext(context.Background(), `SELECT class || ' ' || coalesce(type_system, '?') || '|' || coalesce(type_code, '?') || ' (' || count(*) || ')'
			FROM encounters GROUP BY class, type_system, type_code ORDER BY 1`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				return err
			}
			types = append(types, s)
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	return "no generated patient-year has a qualifying encounter (ecqm_qualifying_encounter: the AdultOutpatientEncounters value sets " +
		"Office Visit, Annual Wellness Visit, Preventive Care 18 and Up, Home Healthcare, Virtual Encounter, Telephone Visits). " +
		"The generated encounters are typed " + strings.Join(types, ", ") + "; the generator must type its office and telehealth " +
		"visits with codes of those value sets (the ETL keeps the first coding of Encounter.type)"
}

// checkGlycemic: among diabetics in pdc_diabetes with a measured HbA1c in
// gsd_glycemic_controlled the same year, adherent patients (PDC ≥ 0.80) are
// controlled (< 8 %) more often, and their mean last HbA1c is lower by about
// slope_per_pdc × ΔPDC.
//
// The model's HbA1c = intercept + slope_per_pdc × c + N(0, sd), where c is
// the coverage of the 90 days before the test; the annual PQA PDC is a proxy
// for it. For steady refill patterns E[c | PDC group] ≈ mean PDC of the
// group, so E[ΔHbA1c] = slope_per_pdc × ΔPDC; the proxy errs both ways
// (drop-off patients have c → 0 after they stop while their PDC keeps the
// months before; PQA shifts early refills forward where c counts overlapping
// supply once; grouping on a noisy PDC regresses c to the mean), so the
// observed difference must be within 25 % of that, plus 3 cluster-robust
// standard errors. (A 40,000-patient run of the same model gave ΔHbA1c =
// −1.227 against −3.6 × 0.335 = −1.206.)
func (w *generatedWorld) checkGlycemic(t *testing.T) {
	w.need(t, "pdc_diabetes", "gsd_glycemic_controlled")
	if !w.ecqm["CMS122"] {
		t.Skip("CMS122 value sets absent: the official bundle lives in ../shared/data/ecqm/CMS122 beside the checkout")
	}
	pdc := w.pdcByYear(t, "pdc_diabetes")
	gsd := w.members(t, "gsd_glycemic_controlled")
	if len(gsd) == 0 {
		t.Fatalf("gsd_glycemic_controlled has no member on generated data, so adherence cannot be related to control: %s", w.emptyEcqm(t))
	}
	control, a1c, pdcs := newDynClusters(), newDynClusters(), newDynClusters()
	var joined, withPDC int
	for _, m := range gsd {
		a, ok := pdc[dynKey{m.PatientID, m.PeriodDate.Year()}]
		if !ok || m.Denominator == 0 {
			continue
		}
		joined++
		g := 0
		if a.adherent {
			g = 1
		}
		control.add(m.PatientID, g, m.Numerator, 1)
		if m.Value != nil {
			a1c.add(m.PatientID, g, *m.Value, 1)
			if a.hasPDC {
				withPDC++
				pdcs.add(m.PatientID, g, a.pdc, 1)
			}
		}
	}
	if joined == 0 {
		t.Fatalf("no patient-year is in both pdc_diabetes (%d) and gsd_glycemic_controlled (%d)", len(pdc), len(gsd))
	}
	cm, cn, _ := control.est()
	hm, hn, hcov := a1c.est()
	t.Logf("diabetic patient-years in both measures: %d; controlled (< 8 %%) adherent %.3f of %v, non-adherent %.3f of %v",
		joined, cm[1], cn[1], cm[0], cn[0])
	if cn[0] == 0 || cn[1] == 0 {
		t.Fatal("need adherent and non-adherent patient-years")
	}
	if cm[1] <= cm[0] {
		t.Errorf("glycemic control of adherent patients %.3f is not above that of non-adherent ones %.3f", cm[1], cm[0])
	}
	if w.has("cms122_glycemic_poor_control") {
		poor := newDynClusters()
		for _, m := range w.members(t, "cms122_glycemic_poor_control") {
			if a, ok := pdc[dynKey{m.PatientID, m.PeriodDate.Year()}]; ok && m.Denominator > 0 {
				g := 0
				if a.adherent {
					g = 1
				}
				poor.add(m.PatientID, g, m.Numerator, 1)
			}
		}
		pm, pn, _ := poor.est()
		t.Logf("CMS122 poor control (> 9 %% or none): adherent %.3f of %v, non-adherent %.3f of %v", pm[1], pn[1], pm[0], pn[0])
		if pn[0] > 0 && pn[1] > 0 && pm[1] >= pm[0] {
			t.Errorf("CMS122 poor control of adherent patients %.3f is not below that of non-adherent ones %.3f", pm[1], pm[0])
		}
	}
	if hn[0] == 0 || hn[1] == 0 {
		t.Fatal("no HbA1c values (gsd value) in one of the groups")
	}
	diff := hm[1] - hm[0]
	se := math.Sqrt(hcov[1][1] + hcov[0][0] - 2*hcov[1][0])
	t.Logf("mean last HbA1c adherent %.3f (n %v), non-adherent %.3f (n %v): difference %.3f (SE %.3f)", hm[1], hn[1], hm[0], hn[0], diff, se)
	if diff >= 0 {
		t.Errorf("mean HbA1c of adherent patients %.3f is not below that of non-adherent ones %.3f", hm[1], hm[0])
	}
	if withPDC < joined/2 {
		t.Logf("PDC values known for %d of %d patient-years: the size of the difference is not checked", withPDC, joined)
		return
	}
	pm, _, _ := pdcs.est()
	want := w.p.HbA1c.SlopePerPDC * (pm[1] - pm[0])
	tol := 0.25*math.Abs(want) + 3*se
	t.Logf("mean PDC adherent %.3f, non-adherent %.3f: slope_per_pdc %.2f × ΔPDC %.3f = %.3f; observed %.3f, tolerance ±%.3f",
		pm[1], pm[0], w.p.HbA1c.SlopePerPDC, pm[1]-pm[0], want, diff, tol)
	if math.Abs(diff-want) > tol {
		t.Errorf("HbA1c difference %.3f is not within %.3f of slope_per_pdc × ΔPDC = %.3f", diff, tol, want)
	}
}

// checkBP: among hypertensives in pdc_ras and cms165_bp_controlled the same
// year, RAS-adherent patients are controlled (< 140/90) more often, by about
// what the model predicts. The model's readings of a hypertensive are
// systolic ~ N(systolic_intercept + systolic_slope_per_pdc × c +
// systolic_age_slope × (age − 60), systolic_sd) and diastolic ~
// N(diastolic_intercept + diastolic_slope_per_pdc × c, diastolic_sd),
// rounded to whole mmHg, with a second, lower reading (systolic 3–12,
// diastolic 1–6 lower) with repeat_prob when the first is ≥ 140/90, CMS165
// taking the lowest of the day. bpControlProb gives each patient-year's
// control probability at c = PDC and the age on 31 December; the observed
// difference in control between the groups must be within 25 % of the
// predicted difference (the PDC-for-c proxy, as for HbA1c; which visit is
// last) plus 3 cluster-robust standard errors.
func (w *generatedWorld) checkBP(t *testing.T) {
	w.need(t, "pdc_ras", "cms165_bp_controlled")
	if !w.ecqm["CMS165"] {
		t.Skip("CMS165 value sets absent: the official bundle lives in ../shared/data/ecqm/CMS165 beside the checkout")
	}
	pdc := w.pdcByYear(t, "pdc_ras")
	cms := w.members(t, "cms165_bp_controlled")
	if len(cms) == 0 {
		t.Fatalf("cms165_bp_controlled has no member on generated data, so adherence cannot be related to control: %s", w.emptyEcqm(t))
	}
	births := map[string]time.Time{}
	rows, err := w.db.QueryContext(context.Background(), `SELECT patient_id, birth_date FROM patients WHERE birth_date IS NOT NULL`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		var b time.Time
		if err := rows.Scan(&id, &b); err != nil {
			t.Fatal(err)
		}
		births[id] = b
	}
	rows.Close()
	obs, pred := newDynClusters(), newDynClusters()
	var joined, predicted int
	for _, m := range cms {
		a, ok := pdc[dynKey{m.PatientID, m.PeriodDate.Year()}]
		if !ok || m.Denominator == 0 {
			continue
		}
		joined++
		g := 0
		if a.adherent {
			g = 1
		}
		obs.add(m.PatientID, g, m.Numerator, 1)
		if b, ok := births[m.PatientID]; ok && a.hasPDC {
			predicted++
			age := m.PeriodDate.Sub(b).Hours() / 24 / 365.2425
			pred.add(m.PatientID, g, bpControlProb(w.p.BP, a.pdc, age), 1)
		}
	}
	if joined == 0 {
		t.Fatalf("no patient-year is in both pdc_ras (%d) and cms165_bp_controlled (%d)", len(pdc), len(cms))
	}
	om, on, ocov := obs.est()
	t.Logf("hypertensive patient-years in both measures: %d; BP controlled adherent %.3f of %v, non-adherent %.3f of %v",
		joined, om[1], on[1], om[0], on[0])
	if on[0] == 0 || on[1] == 0 {
		t.Fatal("need adherent and non-adherent patient-years")
	}
	diff := om[1] - om[0]
	if diff <= 0 {
		t.Errorf("BP control of RAS-adherent patients %.3f is not above that of non-adherent ones %.3f", om[1], om[0])
	}
	if predicted < joined/2 {
		t.Logf("PDC values and ages known for %d of %d patient-years: the size of the difference is not checked", predicted, joined)
		return
	}
	pm, _, _ := pred.est()
	want := pm[1] - pm[0]
	se := math.Sqrt(ocov[1][1] + ocov[0][0] - 2*ocov[1][0])
	tol := 0.25*math.Abs(want) + 3*se
	t.Logf("model-predicted control adherent %.3f, non-adherent %.3f: difference %.3f; observed %.3f (SE %.3f), tolerance ±%.3f",
		pm[1], pm[0], want, diff, se, tol)
	if math.Abs(diff-want) > tol {
		t.Errorf("BP control difference %.3f is not within %.3f of the model's %.3f", diff, tol, want)
	}
}

// bpControlProb is the model's probability that a hypertensive with recent
// RAS coverage c, aged age, has a controlled last reading (lowest of the
// day): systolic < 140 and diastolic < 90 after rounding to whole mmHg.
func bpControlProb(bp synth.BPParams, c, age float64) float64 {
	ms := bp.SystolicIntercept + bp.SystolicSlopePerPDC*c + bp.SystolicAgeSlope*(age-60)
	md := bp.DiastolicIntercept + bp.DiastolicSlopePerPDC*c
	fs := func(x float64) float64 { return dynNormalCDF((x - ms) / bp.SystolicSD) }
	fd := func(x float64) float64 { return dynNormalCDF((x - md) / bp.DiastolicSD) }
	first := fs(139.5) * fd(89.5)
	// A repeat (with repeat_prob, after an uncontrolled first reading) is
	// controlled when the first reading minus the drops is.
	var rescued float64
	for ds := 3; ds <= 12; ds++ {
		for dd := 1; dd <= 6; dd++ {
			rescued += (fs(139.5+float64(ds))*fd(89.5+float64(dd)) - first) / 60
		}
	}
	return first + bp.RepeatProb*rescued
}

// --- acute care ----------------------------------------------------------------

// checkFollowUp: follow_up_7d ≈ follow_up_7_prob. After a discharge the model
// books a follow-up visit on days 2–6 with follow_up_7_prob (else, with
// follow_up_30_prob, on days 8–29). The metric counts a kept visit, so:
//   - the booked visit must be kept: k = (1 − entered_in_error − cancel −
//     late_cancel) × (1 − no-show), the no-show between that of a reminded
//     visit booked 1 day ahead and an unreminded one booked 8 days ahead;
//   - a visit on day 6 that falls on a Saturday moves to Monday, day 8: at
//     most a quarter of the visits are on day 6, so a factor ≥ 1 − 1/28;
//   - another kept visit may fall in days 1–7 anyway: at most 1 −
//     exp(−λ × 7/365) with λ the visit rate of a patient with all five chronic
//     conditions (visits_per_year_base + 5 × visits_per_year_per_condition,
//     plus 1 for follow-ups of other stays and prompted visits).
//
// The band is [p7 × k_lo × (1 − 1/28), p7 × k_hi + (1 − p7 × k_hi) × b_max]
// ± 3 standard errors. follow_up_30d must reach at least (p7 + (1 − p7) ×
// p30) × k_lo × (1 − 1/28) − 3 SE.
func (w *generatedWorld) checkFollowUp(t *testing.T) {
	w.need(t, "follow_up_7d")
	ap, ac := w.p.Appointments, w.p.Acute
	notCancelled := 1 - ap.EnteredInErrorProb - ap.CancelProb - ap.LateCancelProb
	kLo := notCancelled * (1 - dynNormalMean(ap.NoshowBaseLogit+ap.NoshowLeadPerWeek*8.0/7, ap.NoshowPatientSD))
	kHi := notCancelled * (1 - dynNormalMean(ap.NoshowBaseLogit+ap.NoshowLeadPerWeek/7+ap.ReminderLogOdds, ap.NoshowPatientSD))
	const weekend = 1 - 1.0/28
	lambda := ap.VisitsPerYearBase + 5*ap.VisitsPerYearPerCondition + 1
	bMax := 1 - math.Exp(-lambda*7/365)
	p, se, n := w.rate(t, "follow_up_7d", w.export)
	if res, err := w.e.Compute(context.Background(), "follow_up_7d",
		Query{From: w.from, To: w.export, Grain: GrainNone, By: []string{"disposition"}}); err == nil {
		var parts []string
		for _, r := range res.Rows {
			parts = append(parts, fmt.Sprintf("%s %v/%v", r.Dims[0], r.Numerator, r.Denominator))
		}
		t.Logf("follow_up_7d by discharge disposition: %s", strings.Join(parts, ", "))
	}
	lo := ac.FollowUp7Prob*kLo*weekend - 3*se
	hi := ac.FollowUp7Prob*kHi + (1-ac.FollowUp7Prob*kHi)*bMax + 3*se
	t.Logf("follow_up_7d %.4f of %v discharges (SE %.4f); truth follow_up_7_prob %.2f, kept share %.3f..%.3f, other visits ≤ %.3f: band [%.4f, %.4f]",
		p, n, se, ac.FollowUp7Prob, kLo, kHi, bMax, lo, hi)
	if p < lo || p > hi {
		t.Errorf("follow_up_7d %.4f outside [%.4f, %.4f]", p, lo, hi)
	}
	if !w.has("follow_up_30d") {
		t.Log("follow_up_30d not present: its bound is not checked")
		return
	}
	p30, se30, n30 := w.rate(t, "follow_up_30d", w.export)
	lo30 := (ac.FollowUp7Prob + (1-ac.FollowUp7Prob)*ac.FollowUp30Prob) * kLo * weekend
	t.Logf("follow_up_30d %.4f of %v discharges (SE %.4f); at least %.4f − 3 SE expected", p30, n30, se30, lo30)
	if p30 < lo30-3*se30 {
		t.Errorf("follow_up_30d %.4f below %.4f − 3 × %.4f", p30, lo30, se30)
	}
	if p30 < p {
		t.Errorf("follow_up_30d %.4f below follow_up_7d %.4f", p30, p)
	}
}

// checkReadmission: readmission_30d ≈ readmit_prob + 0.15 × (1 − adherence).
// Adherence a is a patient trait for every patient: in [adherent_min, 1) for
// the adherent and drop-off patterns, [partial_min, partial_max] for the
// partial one, uniform, so E[1 − a] follows from the shares. A readmission
// comes on days 2–29, so the metric sees all of them, except that the model
// does not readmit a second readmission (a share r²/(1 + r + r²) of the
// stays). Unrelated admissions (inpatient_per_year + 5 ×
// inpatient_per_condition, plus 15 % of emergency visits at
// emergency_per_year + 5 × emergency_per_condition, for a patient with all
// five conditions) add at most 1 − exp(−rate × 30/365). Band: [r × (1 −
// r²/(1 + r + r²)), r + that] ± 3 standard errors.
func (w *generatedWorld) checkReadmission(t *testing.T) {
	w.need(t, "readmission_30d")
	a, ac := w.p.Adherence, w.p.Acute
	oneMinusA := (a.AdherentShare+a.DropoffShare)*(1-(a.AdherentMin+1)/2) + a.PartialShare*(1-(a.PartialMin+a.PartialMax)/2)
	r := ac.ReadmitProb + 0.15*oneMinusA
	third := r * r / (1 + r + r*r)
	rate := ac.InpatientPerYear + 5*ac.InpatientPerCondition + 0.15*(ac.EmergencyPerYear+5*ac.EmergencyPerCondition)
	bg := 1 - math.Exp(-rate*30/365)
	p, se, n := w.rate(t, "readmission_30d", w.export)
	lo, hi := r*(1-third)-3*se, r+bg+3*se
	t.Logf("readmission_30d %.4f of %v index stays (SE %.4f); truth readmit_prob %.2f + 0.15 × E[1 − a] %.3f = %.4f; band [%.4f, %.4f]",
		p, n, se, ac.ReadmitProb, oneMinusA, r, lo, hi)
	if p < lo || p > hi {
		t.Errorf("readmission_30d %.4f outside [%.4f, %.4f]", p, lo, hi)
	}
}

// --- appointments and outreach ---------------------------------------------------

// checkLateCancellation: late_cancellation_rate ≈ what late_cancel_prob
// implies. Of past appointments the model enters entered_in_error_prob in
// error, cancels cancel_prob at least late_cancel_hours before the start
// — except when the booking itself was less than that before the start: the
// cancellation then falls between booking and start, late — and cancels
// late_cancel_prob late. With s the share of due appointments booked less
// than 24 h ahead (read from the data: a covariate, not the effect), the late
// share is L = late_cancel_prob + cancel_prob × s and the metric (late
// cancellations over due appointments plus late cancellations) should be
// L / (1 − entered_in_error − cancel − late_cancel + L) ± 3 standard errors.
func (w *generatedWorld) checkLateCancellation(t *testing.T) {
	w.need(t, "late_cancellation_rate")
	ap := w.p.Appointments
	to := w.export.AddDate(0, 0, -1)
	var s float64
	w.queryFloats(t, fmt.Sprintf(`SELECT avg(CASE WHEN start_ts - booked_at < INTERVAL %d HOUR THEN 1.0 ELSE 0.0 END)
		FROM appointments WHERE status IN ('booked', 'arrived', 'checked-in', 'fulfilled', 'noshow')
		AND start_ts < DATE '%s' AND booked_at IS NOT NULL`, ap.LateCancelHours, day(w.export)), &s)
	late := ap.LateCancelProb + ap.CancelProb*s
	want := late / (1 - ap.EnteredInErrorProb - ap.CancelProb - ap.LateCancelProb + late)
	p, se, n := w.rate(t, "late_cancellation_rate", to)
	t.Logf("late_cancellation_rate %.4f of %v (SE %.4f); truth late_cancel_prob %.3f, cancel_prob %.3f × booked < %d h ahead %.4f: expected %.4f ± %.4f",
		p, n, se, ap.LateCancelProb, ap.CancelProb, ap.LateCancelHours, s, want, 3*se)
	if math.Abs(p-want) > 3*se {
		t.Errorf("late_cancellation_rate %.4f is not within %.4f of %.4f", p, 3*se, want)
	}
}

// checkOutreach: the funnel rates per channel equal the planted
// probabilities. Every message is delivered with delivery_prob[channel],
// opened (given delivered) with open_prob, replied (given opened) with
// reply_prob, independently of everything else, so against sent messages
// delivered ≈ d, opened ≈ d × o, responded ≈ d × o × r. Surveys are the
// exception: they are opened and replied exactly when answered, with
// survey_response given delivery, so for purpose survey opened = responded
// ≈ d × survey_response. The metrics leave out messages whose 7-day window
// is not over at the export; every delay is shorter. Draws are independent
// per message, so the binomial standard error is right; with 16 cells the
// band is ±4 standard errors (a correct metric fails one with probability
// under 0.1 %).
func (w *generatedWorld) checkOutreach(t *testing.T) {
	w.need(t, "outreach_delivered_rate", "outreach_opened_rate", "outreach_response_rate")
	o := w.p.Outreach
	type cell struct{ num, den float64 }
	read := func(name string) map[[2]string]cell {
		res, err := w.e.Compute(context.Background(), name,
			Query{From: w.from, To: w.export, Grain: GrainNone, By: []string{"channel", "purpose"}})
		if err != nil {
			t.Fatal(err)
		}
		out := map[[2]string]cell{}
		for _, r := range res.Rows {
			out[[2]string{r.Dims[0], r.Dims[1]}] = cell{r.Numerator, r.Denominator}
		}
		return out
	}
	stages := map[string]map[[2]string]cell{
		"delivered": read("outreach_delivered_rate"),
		"opened":    read("outreach_opened_rate"),
		"responded": read("outreach_response_rate"),
	}
	channels := make([]string, 0, len(o.DeliveryProb))
	for ch := range o.DeliveryProb {
		channels = append(channels, ch)
	}
	sort.Strings(channels)
	check := func(stage, ch string, survey bool, want float64) {
		var c cell
		for k, v := range stages[stage] {
			if k[0] == ch && (k[1] == "survey") == survey {
				c.num += v.num
				c.den += v.den
			}
		}
		if c.den < 30 {
			t.Logf("%-9s %-6s survey=%-5v only %v messages: not checked", stage, ch, survey, c.den)
			return
		}
		p := c.num / c.den
		se := math.Sqrt(want * (1 - want) / c.den)
		t.Logf("%-9s %-6s survey=%-5v %.4f of %6v, truth %.4f ± %.4f", stage, ch, survey, p, c.den, want, 4*se)
		if math.Abs(p-want) > 4*se {
			t.Errorf("%s rate of %s messages (survey %v) %.4f is not within %.4f of %.4f", stage, ch, survey, p, 4*se, want)
		}
	}
	for _, ch := range channels {
		d, op, rp := o.DeliveryProb[ch], o.OpenProb[ch], o.ReplyProb[ch]
		check("delivered", ch, false, d)
		check("opened", ch, false, d*op)
		check("responded", ch, false, d*op*rp)
	}
	check("delivered", "email", true, o.DeliveryProb["email"])
	check("responded", "email", true, o.DeliveryProb["email"]*o.SurveyResponse)
	for stage, cells := range stages {
		for k := range cells {
			if _, ok := o.DeliveryProb[k[0]]; !ok {
				t.Errorf("%s: channel %q is not one of the generator's", stage, k[0])
			}
		}
	}
}

// checkPrimaryNonadherence: a new prescription goes unfilled with
// primary_nonadherence. In the model only the first prescription of a class
// for a new therapy is drawn so; every other prescription is filled:
// renewals are authored hours before the fill they serve, and a switch to
// another drug is filled within 3 days. So whichever prescriptions a metric
// calls new, the unfilled share cannot exceed primary_nonadherence (+ 3
// cluster-robust standard errors), and some must be unfilled; how far below
// it lies depends on how many renewals and switches the metric's definition
// of "new" lets in, which the check cannot know in advance.
func (w *generatedWorld) checkPrimaryNonadherence(t *testing.T) {
	w.need(t, "primary_nonadherence")
	p, se, n := w.rate(t, "primary_nonadherence", w.export)
	want := w.p.Adherence.PrimaryNonadherence
	t.Logf("primary_nonadherence %.4f of %v prescriptions (SE %.4f); truth primary_nonadherence %.2f for first prescriptions of a new therapy; bound (0, %.4f]",
		p, n, se, want, want+3*se)
	if p <= 0 || p > want+3*se {
		t.Errorf("primary_nonadherence %.4f outside (0, %.4f]", p, want+3*se)
	}
}

// --- cluster-robust estimates -------------------------------------------------

// dynClusters accumulates, per patient, the sums of values and weights of the
// units in two groups, for ratio-of-sums means (a rate: value 0/1, weight 1;
// a mean: value, weight 1) and their sandwich (cluster-robust) covariance:
// units of one patient are not independent (a patient trait, several
// appointments or years).
type dynClusters struct{ by map[string]*[2][2]float64 }

func newDynClusters() *dynClusters { return &dynClusters{by: map[string]*[2][2]float64{}} }

func (c *dynClusters) add(patient string, group int, value, weight float64) {
	s := c.by[patient]
	if s == nil {
		s = new([2][2]float64)
		c.by[patient] = s
	}
	s[group][0] += value
	s[group][1] += weight
}

// est returns each group's mean (Σ value / Σ weight), total weight, and the
// covariance of the two means, linearised: z_g = (y_g − mean_g × n_g) / N_g
// per patient, cov = G/(G−1) Σ z_g z_h over the G patients.
func (c *dynClusters) est() (mean, n [2]float64, cov [2][2]float64) {
	var y [2]float64
	for _, s := range c.by {
		for g := 0; g < 2; g++ {
			y[g] += s[g][0]
			n[g] += s[g][1]
		}
	}
	for g := 0; g < 2; g++ {
		if n[g] > 0 {
			mean[g] = y[g] / n[g]
		}
	}
	G := float64(len(c.by))
	if G < 2 {
		return mean, n, cov
	}
	for _, s := range c.by {
		var z [2]float64
		for g := 0; g < 2; g++ {
			if n[g] > 0 {
				z[g] = (s[g][0] - mean[g]*s[g][1]) / n[g]
			}
		}
		for g := 0; g < 2; g++ {
			for h := 0; h < 2; h++ {
				cov[g][h] += z[g] * z[h]
			}
		}
	}
	for g := 0; g < 2; g++ {
		for h := 0; h < 2; h++ {
			cov[g][h] *= G / (G - 1)
		}
	}
	return mean, n, cov
}
