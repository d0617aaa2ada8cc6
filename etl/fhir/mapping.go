package fhir

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"encoding/json"

	"github.com/carelens/carelens/etl/deid"
	"github.com/carelens/carelens/internal/store"
)

// Code systems the mappers recognise.
const (
	SystemSNOMED = "http://snomed.info/sct"
	SystemICD10  = "http://hl7.org/fhir/sid/icd-10-cm"
	SystemLOINC  = "http://loinc.org"
	SystemRxNorm = "http://www.nlm.nih.gov/research/umls/rxnorm"
	SystemV2Type = "http://terminology.hl7.org/CodeSystem/v2-0203"
	SystemOrgTyp = "http://terminology.hl7.org/CodeSystem/organization-type"
	SystemSOP    = "urn:oid:2.16.840.1.113883.3.221.5" // Source of Payment Typology

	// ExtCancellationDate carries an R4 Appointment's cancellation time (the
	// R5 element Appointment.cancellationDate as a cross-version extension).
	ExtCancellationDate = "http://hl7.org/fhir/5.0/StructureDefinition/extension-Appointment.cancellationDate"
)

// RecordError is a problem with one record: it is quarantined with Reason,
// which names fields, never their values.
type RecordError struct{ Reason string }

func (e *RecordError) Error() string { return e.Reason }

func bad(format string, args ...any) error { return &RecordError{Reason: fmt.Sprintf(format, args...)} }

// Mapper maps resources to warehouse rows, replacing identities through the
// vault. It is safe for concurrent use if the vault is.
type Mapper struct {
	Vault *deid.Vault
	// AsOf is the data's reference time (the export's transactionTime): ages
	// over 89 at AsOf are reported as 90+.
	AsOf time.Time
}

// Entity is a resource type carelens loads: the table it fills and how.
type Entity struct {
	Type  string
	Table *store.Table
	// Map decodes one resource and appends its rows (zero or more) to b. It
	// appends nothing when it returns an error; a *RecordError is the record's
	// fault, any other error aborts the load.
	Map func(m *Mapper, raw []byte, b *store.Batch, seq int64) error
}

// Entities are the loadable resource types in load order: Patient first, so
// that patients' identifiers are in the vault before anything refers to them.
var Entities = []*Entity{
	{"Patient", store.Patients, mapPatient},
	{"Organization", store.Clinics, mapOrganization},
	{"Coverage", store.Coverage, mapCoverage},
	{"Encounter", store.Encounters, mapEncounter},
	{"Appointment", store.Appointments, mapAppointment},
	{"Condition", store.Conditions, mapCondition},
	{"MedicationRequest", store.MedicationRequests, mapMedicationRequest},
	{"MedicationDispense", store.MedicationDispenses, mapMedicationDispense},
	{"Observation", store.Observations, mapObservation},
}

// EntityFor returns the entity for a resource type, or nil.
func EntityFor(resourceType string) *Entity {
	for _, e := range Entities {
		if e.Type == resourceType {
			return e
		}
	}
	return nil
}

type base struct {
	ResourceType string `json:"resourceType"`
	ID           string `json:"id"`
}

func decode(raw []byte, typ string, v any, b *base) error {
	if err := json.Unmarshal(raw, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return bad("field %s: wrong JSON type", te.Field)
		}
		return bad("malformed JSON")
	}
	if b.ResourceType != typ {
		if b.ResourceType == "" {
			return bad("no resourceType")
		}
		return bad("resourceType %s where %s expected", safeToken(b.ResourceType), typ)
	}
	if b.ID == "" {
		return bad("%s without id", typ)
	}
	return nil
}

// safeToken returns s if it looks like a FHIR type name, else a placeholder,
// so that a reason never echoes arbitrary input.
func safeToken(s string) string {
	if len(s) > 64 {
		return "(invalid)"
	}
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			return "(invalid)"
		}
	}
	return s
}

func (m *Mapper) patient(ref *Reference, field string) (string, error) {
	id := ref.ID("Patient")
	if id == "" {
		return "", bad("%s: no Patient reference", field)
	}
	return m.Vault.Surrogate(deid.NSPatient, id)
}

func dateField(s, field string) (time.Time, error) {
	t, err := ParseDateTime(s)
	if err != nil {
		return t, bad("%s: invalid date", field)
	}
	return t, nil
}

// --- Patient ---------------------------------------------------------------

type patientRes struct {
	base
	Identifier []struct {
		Type   *CodeableConcept `json:"type"`
		System string           `json:"system"`
		Value  string           `json:"value"`
	} `json:"identifier"`
	Gender           string `json:"gender"`
	BirthDate        string `json:"birthDate"`
	DeceasedDateTime string `json:"deceasedDateTime"`
	Address          []struct {
		Use        string  `json:"use"`
		State      string  `json:"state"`
		PostalCode string  `json:"postalCode"`
		Period     *Period `json:"period"`
	} `json:"address"`
	ManagingOrganization *Reference `json:"managingOrganization"`
}

func mapPatient(m *Mapper, raw []byte, b *store.Batch, seq int64) error {
	var p patientRes
	if err := decode(raw, "Patient", &p, &p.base); err != nil {
		return err
	}
	birth, err := dateField(p.BirthDate, "birthDate")
	if err != nil {
		return err
	}
	deceased, err := dateField(p.DeceasedDateTime, "deceasedDateTime")
	if err != nil {
		return err
	}
	s, err := m.Vault.Surrogate(deid.NSPatient, p.ID)
	if err != nil {
		return err
	}
	for _, id := range p.Identifier {
		if id.Type.Code(SystemV2Type) == "MR" && id.Value != "" {
			// The same MRN on two patient records (a duplicate, or one value
			// issued by two authorities) loads both patients but links
			// neither to a CRM contact by that MRN.
			m.Vault.BindShared(deid.NSMRN, id.System+"|"+id.Value, s)
			m.Vault.BindShared(deid.NSMRNValue, id.Value, s)
		}
	}
	over89 := !birth.IsZero() && deid.Over89(birth, m.AsOf)
	var birthYear int32
	if over89 {
		birth = time.Time{}
	} else if !birth.IsZero() {
		birthYear = int32(birth.Year())
	}
	sex := p.Gender
	switch sex {
	case "female", "male", "other", "unknown":
	default:
		sex = "unknown"
	}
	var zip3, state string
	for i, a := range p.Address {
		// The home address, else the first one.
		if i == 0 || a.Use == "home" {
			zip3, state = deid.ZIP3(a.PostalCode), strings.ToUpper(strings.TrimSpace(a.State))
			if a.Use == "home" {
				break
			}
		}
	}
	if len(state) != 2 {
		state = ""
	}
	b.Row().Str(s).Date(birth).Int32(birthYear, birthYear != 0).Bool(over89).Str(sex).Str(zip3).
		Str(state).Date(deceased).Str(p.ManagingOrganization.ID("Organization")).Str("ehr").End(seq)
	return nil
}

// --- Organization (clinics) ------------------------------------------------

type organizationRes struct {
	base
	Name string            `json:"name"`
	Type []CodeableConcept `json:"type"`
}

func mapOrganization(m *Mapper, raw []byte, b *store.Batch, seq int64) error {
	var o organizationRes
	if err := decode(raw, "Organization", &o, &o.base); err != nil {
		return err
	}
	for _, t := range o.Type {
		if t.Code(SystemOrgTyp) == "prov" {
			name := o.Name
			if name == "" {
				name = o.ID
			}
			b.Row().Str(o.ID).Str(name).End(seq)
			return nil
		}
	}
	return nil // payers and other organisations are not clinics
}

// --- Coverage --------------------------------------------------------------

type coverageRes struct {
	base
	Status      string           `json:"status"`
	Beneficiary *Reference       `json:"beneficiary"`
	Payor       []Reference      `json:"payor"`
	Type        *CodeableConcept `json:"type"`
	Period      *Period          `json:"period"`
}

// payerType maps a Source of Payment Typology code to a payer type.
func payerType(c *CodeableConcept) string {
	code := c.Code(SystemSOP)
	switch {
	case code == "":
		return "other"
	case code == "81" || code == "82":
		return "self_pay"
	case code[0] == '1':
		return "medicare"
	case code[0] == '2':
		return "medicaid"
	case code[0] == '5' || code[0] == '6':
		return "commercial"
	}
	return "other"
}

func mapCoverage(m *Mapper, raw []byte, b *store.Batch, seq int64) error {
	var c coverageRes
	if err := decode(raw, "Coverage", &c, &c.base); err != nil {
		return err
	}
	var start, end time.Time
	if c.Period != nil {
		var err error
		if start, err = dateField(c.Period.Start, "period.start"); err != nil {
			return err
		}
		if end, err = dateField(c.Period.End, "period.end"); err != nil {
			return err
		}
	}
	pid, err := m.patient(c.Beneficiary, "beneficiary")
	if err != nil {
		return err
	}
	var payerID, payerName string
	if len(c.Payor) > 0 {
		payerID, payerName = c.Payor[0].ID("Organization"), c.Payor[0].Display
	}
	b.Row().Str(m.Vault.RecordKey("Coverage", c.ID)).Str(pid).Str(c.Status).Str(payerID).Str(payerName).
		Str(payerType(c.Type)).Date(start).Date(end).End(seq)
	return nil
}

// --- Encounter -------------------------------------------------------------

type encounterRes struct {
	base
	Status          string            `json:"status"`
	Class           *Coding           `json:"class"`
	Type            []CodeableConcept `json:"type"`
	Subject         *Reference        `json:"subject"`
	Period          *Period           `json:"period"`
	ServiceProvider *Reference        `json:"serviceProvider"`
	Location        []struct {
		Location *Reference `json:"location"`
	} `json:"location"`
}

// encounterClass maps v3 ActCode encounter classes to warehouse classes.
func encounterClass(c *Coding) string {
	if c == nil {
		return "other"
	}
	switch c.Code {
	case "AMB", "HH", "FLD":
		return "ambulatory"
	case "IMP", "ACUTE", "NONAC", "SS", "OBSENC", "PRENC":
		return "inpatient"
	case "EMER":
		return "emergency"
	case "VR":
		return "telehealth"
	}
	return "other"
}

func mapEncounter(m *Mapper, raw []byte, b *store.Batch, seq int64) error {
	var e encounterRes
	if err := decode(raw, "Encounter", &e, &e.base); err != nil {
		return err
	}
	if e.Status == "" {
		return bad("Encounter without status")
	}
	var start, end time.Time
	if e.Period != nil {
		var err error
		if start, err = dateField(e.Period.Start, "period.start"); err != nil {
			return err
		}
		if end, err = dateField(e.Period.End, "period.end"); err != nil {
			return err
		}
	}
	pid, err := m.patient(e.Subject, "subject")
	if err != nil {
		return err
	}
	var typeCode string
	if len(e.Type) > 0 {
		typeCode = e.Type[0].Code("")
	}
	clinic := e.ServiceProvider.ID("Organization")
	if clinic == "" && len(e.Location) > 0 {
		clinic = e.Location[0].Location.ID("Location")
	}
	b.Row().Str(m.Vault.RecordKey("Encounter", e.ID)).Str(pid).Str(encounterClass(e.Class)).Str(e.Status).
		Str(typeCode).Time(start).Time(end).Str(clinic).End(seq)
	return nil
}

// --- Appointment -----------------------------------------------------------

type appointmentRes struct {
	base
	Status      string            `json:"status"`
	ServiceType []CodeableConcept `json:"serviceType"`
	Created     string            `json:"created"`
	Start       string            `json:"start"`
	End         string            `json:"end"`
	Participant []struct {
		Actor *Reference `json:"actor"`
	} `json:"participant"`
	Extension []Extension `json:"extension"`
}

// AppointmentStatuses are the FHIR R4 AppointmentStatus codes.
var AppointmentStatuses = map[string]bool{
	"proposed": true, "pending": true, "booked": true, "arrived": true, "fulfilled": true,
	"cancelled": true, "noshow": true, "entered-in-error": true, "checked-in": true, "waitlist": true,
}

func mapAppointment(m *Mapper, raw []byte, b *store.Batch, seq int64) error {
	var a appointmentRes
	if err := decode(raw, "Appointment", &a, &a.base); err != nil {
		return err
	}
	if !AppointmentStatuses[a.Status] {
		return bad("status: not an AppointmentStatus code")
	}
	created, err := dateField(a.Created, "created")
	if err != nil {
		return err
	}
	start, err := dateField(a.Start, "start")
	if err != nil {
		return err
	}
	end, err := dateField(a.End, "end")
	if err != nil {
		return err
	}
	var cancelled time.Time
	for _, x := range a.Extension {
		if x.URL == ExtCancellationDate {
			if cancelled, err = dateField(x.ValueDateTime, "cancellationDate extension"); err != nil {
				return err
			}
		}
	}
	var patientRef *Reference
	var clinic string
	for _, p := range a.Participant {
		if patientRef == nil && p.Actor.ID("Patient") != "" {
			patientRef = p.Actor
		}
		if clinic == "" {
			clinic = p.Actor.ID("Location")
		}
	}
	pid, err := m.patient(patientRef, "participant")
	if err != nil {
		return err
	}
	var service string
	if len(a.ServiceType) > 0 {
		service = a.ServiceType[0].Code("")
	}
	b.Row().Str(m.Vault.RecordKey("Appointment", a.ID)).Str(pid).Str(a.Status).Str(service).Str(clinic).
		Time(created).Time(start).Time(end).Time(cancelled).End(seq)
	return nil
}

// --- Condition -------------------------------------------------------------

type conditionRes struct {
	base
	ClinicalStatus     *CodeableConcept `json:"clinicalStatus"`
	VerificationStatus *CodeableConcept `json:"verificationStatus"`
	Code               *CodeableConcept `json:"code"`
	Subject            *Reference       `json:"subject"`
	OnsetDateTime      string           `json:"onsetDateTime"`
	OnsetPeriod        *Period          `json:"onsetPeriod"`
	AbatementDateTime  string           `json:"abatementDateTime"`
	RecordedDate       string           `json:"recordedDate"`
}

func mapCondition(m *Mapper, raw []byte, b *store.Batch, seq int64) error {
	var c conditionRes
	if err := decode(raw, "Condition", &c, &c.base); err != nil {
		return err
	}
	system, code := SystemSNOMED, c.Code.Code(SystemSNOMED)
	icd := c.Code.Code(SystemICD10)
	if code == "" && icd != "" {
		system, code = SystemICD10, icd
	}
	if code == "" {
		if system, code = c.Code.first(); code == "" {
			return bad("code: no coding (text alone is not loaded)")
		}
	}
	onsetS := c.OnsetDateTime
	if onsetS == "" && c.OnsetPeriod != nil {
		onsetS = c.OnsetPeriod.Start
	}
	onset, err := dateField(onsetS, "onset")
	if err != nil {
		return err
	}
	abate, err := dateField(c.AbatementDateTime, "abatementDateTime")
	if err != nil {
		return err
	}
	recorded, err := dateField(c.RecordedDate, "recordedDate")
	if err != nil {
		return err
	}
	pid, err := m.patient(c.Subject, "subject")
	if err != nil {
		return err
	}
	b.Row().Str(m.Vault.RecordKey("Condition", c.ID)).Str(pid).Str(system).Str(code).Str(icd).
		Str(c.ClinicalStatus.Code("")).Str(c.VerificationStatus.Code("")).
		Date(onset).Date(abate).Date(recorded).End(seq)
	return nil
}

// --- MedicationRequest / MedicationDispense --------------------------------

type medicationRequestRes struct {
	base
	Status                    string           `json:"status"`
	Intent                    string           `json:"intent"`
	MedicationCodeableConcept *CodeableConcept `json:"medicationCodeableConcept"`
	Subject                   *Reference       `json:"subject"`
	AuthoredOn                string           `json:"authoredOn"`
	DispenseRequest           *struct {
		NumberOfRepeatsAllowed *int32    `json:"numberOfRepeatsAllowed"`
		Quantity               *Quantity `json:"quantity"`
		ExpectedSupplyDuration *Quantity `json:"expectedSupplyDuration"`
	} `json:"dispenseRequest"`
}

func mapMedicationRequest(m *Mapper, raw []byte, b *store.Batch, seq int64) error {
	var r medicationRequestRes
	if err := decode(raw, "MedicationRequest", &r, &r.base); err != nil {
		return err
	}
	if r.Status == "" {
		return bad("MedicationRequest without status")
	}
	authored, err := dateField(r.AuthoredOn, "authoredOn")
	if err != nil {
		return err
	}
	pid, err := m.patient(r.Subject, "subject")
	if err != nil {
		return err
	}
	var days int32
	var daysOK, qtyOK, refillsOK bool
	var qty float64
	var refills int32
	if d := r.DispenseRequest; d != nil {
		days, daysOK = d.ExpectedSupplyDuration.Days()
		if d.Quantity != nil && d.Quantity.Value != nil {
			qty, qtyOK = *d.Quantity.Value, true
		}
		if d.NumberOfRepeatsAllowed != nil {
			refills, refillsOK = *d.NumberOfRepeatsAllowed, true
		}
	}
	b.Row().Str(m.Vault.RecordKey("MedicationRequest", r.ID)).Str(pid).Str(r.MedicationCodeableConcept.Code(SystemRxNorm)).
		Str(r.Status).Str(r.Intent).Date(authored).Int32(days, daysOK).Float(qty, qtyOK).Int32(refills, refillsOK).End(seq)
	return nil
}

type medicationDispenseRes struct {
	base
	Status                    string           `json:"status"`
	MedicationCodeableConcept *CodeableConcept `json:"medicationCodeableConcept"`
	Subject                   *Reference       `json:"subject"`
	AuthorizingPrescription   []Reference      `json:"authorizingPrescription"`
	Quantity                  *Quantity        `json:"quantity"`
	DaysSupply                *Quantity        `json:"daysSupply"`
	WhenPrepared              string           `json:"whenPrepared"`
	WhenHandedOver            string           `json:"whenHandedOver"`
}

func mapMedicationDispense(m *Mapper, raw []byte, b *store.Batch, seq int64) error {
	var d medicationDispenseRes
	if err := decode(raw, "MedicationDispense", &d, &d.base); err != nil {
		return err
	}
	if d.Status == "" {
		return bad("MedicationDispense without status")
	}
	when := d.WhenHandedOver
	if when == "" {
		when = d.WhenPrepared
	}
	on, err := dateField(when, "whenHandedOver")
	if err != nil {
		return err
	}
	pid, err := m.patient(d.Subject, "subject")
	if err != nil {
		return err
	}
	var req string
	if len(d.AuthorizingPrescription) > 0 {
		if id := d.AuthorizingPrescription[0].ID("MedicationRequest"); id != "" {
			req = m.Vault.RecordKey("MedicationRequest", id)
		}
	}
	days, daysOK := d.DaysSupply.Days()
	var qty float64
	qtyOK := d.Quantity != nil && d.Quantity.Value != nil
	if qtyOK {
		qty = *d.Quantity.Value
	}
	b.Row().Str(m.Vault.RecordKey("MedicationDispense", d.ID)).Str(pid).Str(req).Str(d.MedicationCodeableConcept.Code(SystemRxNorm)).
		Str(d.Status).Date(on).Int32(days, daysOK).Float(qty, qtyOK).End(seq)
	return nil
}

// --- Observation -----------------------------------------------------------

type observationRes struct {
	base
	Status            string            `json:"status"`
	Category          []CodeableConcept `json:"category"`
	Code              *CodeableConcept  `json:"code"`
	Subject           *Reference        `json:"subject"`
	Encounter         *Reference        `json:"encounter"`
	EffectiveDateTime string            `json:"effectiveDateTime"`
	EffectiveInstant  string            `json:"effectiveInstant"`
	EffectivePeriod   *Period           `json:"effectivePeriod"`
	ValueQuantity     *Quantity         `json:"valueQuantity"`
	Component         []struct {
		Code          *CodeableConcept `json:"code"`
		ValueQuantity *Quantity        `json:"valueQuantity"`
	} `json:"component"`
}

// loinc returns the LOINC coding of c, else its first coding.
func loinc(c *CodeableConcept) (system, code string) {
	if code := c.Code(SystemLOINC); code != "" {
		return SystemLOINC, code
	}
	return c.first()
}

func mapObservation(m *Mapper, raw []byte, b *store.Batch, seq int64) error {
	var o observationRes
	if err := decode(raw, "Observation", &o, &o.base); err != nil {
		return err
	}
	system, code := loinc(o.Code)
	if code == "" {
		return bad("code: no coding (text alone is not loaded)")
	}
	if o.Status == "" {
		return bad("Observation without status")
	}
	effS := o.EffectiveDateTime
	if effS == "" {
		effS = o.EffectiveInstant
	}
	if effS == "" && o.EffectivePeriod != nil {
		effS = o.EffectivePeriod.Start
	}
	eff, err := dateField(effS, "effective")
	if err != nil {
		return err
	}
	pid, err := m.patient(o.Subject, "subject")
	if err != nil {
		return err
	}
	var category string
	if len(o.Category) > 0 {
		category = o.Category[0].Code("")
	}
	var enc string
	if id := o.Encounter.ID("Encounter"); id != "" {
		enc = m.Vault.RecordKey("Encounter", id)
	}
	key := m.Vault.RecordKey("Observation", o.ID)
	row := func(panel, system, code string, q *Quantity) {
		var v float64
		var unit string
		ok := q != nil && q.Value != nil
		if ok {
			v = *q.Value
			unit = q.Code
			if unit == "" {
				unit = q.Unit
			}
		}
		b.Row().Str(key).Str(pid).Str(enc).Str(o.Status).Str(category).Str(panel).Str(system).Str(code).
			Float(v, ok).Str(unit).Time(eff).End(seq)
	}
	var comps int
	for _, c := range o.Component {
		if _, cc := loinc(c.Code); cc != "" {
			comps++
		}
	}
	if comps == 0 || o.ValueQuantity != nil {
		row("", system, code, o.ValueQuantity)
	}
	for _, c := range o.Component {
		if cs, cc := loinc(c.Code); cc != "" {
			row(code, cs, cc, c.ValueQuantity)
		}
	}
	return nil
}
