package synth

// Fixed tables of the synthetic world: clinics, payers, places, names, codes.
// All names are invented; places are real towns so that states and ZIP3s are
// plausible, and include ZIP3 areas on HHS's restricted list.

// Clinic is one clinic: an Organization (type prov) and a Location with the
// same id.
type Clinic struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

var clinics = []Clinic{
	{"clinic-01", "Harbor Street Family Medicine"},
	{"clinic-02", "Riverside Primary Care"},
	{"clinic-03", "North End Community Health Center"},
	{"clinic-04", "Maple Grove Internal Medicine"},
	{"clinic-05", "Summit Pediatrics & Family Care"},
	{"clinic-06", "Lakeside Health Center"},
	{"clinic-07", "Brookfield Medical Associates"},
	{"clinic-08", "Westgate Primary Care"},
}

// clinicWeights: how patients spread over clinics (sums to 100).
var clinicWeights = []int{18, 16, 14, 12, 11, 11, 10, 8}

type payer struct {
	id, name string
	sop      string // Source of Payment Typology code
	sopName  string
	prefix   string // member id prefix
}

const (
	payMedicare = iota
	payMedicaid
	payBluestone
	payHarborview
	payAcme
	paySelf
)

var payers = []payer{
	{"payer-medicare", "Medicare", "1", "MEDICARE", "MC"},
	{"payer-medicaid", "State Medicaid", "2", "MEDICAID", "MD"},
	{"payer-bluestone", "Bluestone Health Plan", "5", "PRIVATE HEALTH INSURANCE", "BHP"},
	{"payer-harborview", "Harborview Mutual", "5", "PRIVATE HEALTH INSURANCE", "HVM"},
	{"payer-acme", "Acme Health Insurance", "5", "PRIVATE HEALTH INSURANCE", "ACM"},
	{"", "Self-pay", "81", "Self-pay", "SP"},
}

type area struct {
	city, state, zip3, phone string
	weight                   int
}

// areas: where patients live. Most live around the clinics (Massachusetts);
// the restricted ZIP3s (036, 059, 063, 102, 203, 556, 692, 790, 821, 823,
// 830, 878, 890, 893) carry a small weight each.
var areas = []area{
	{"Boston", "MA", "021", "617", 200},
	{"Cambridge", "MA", "021", "617", 80},
	{"Somerville", "MA", "021", "617", 60},
	{"Quincy", "MA", "021", "617", 50},
	{"Lynn", "MA", "019", "781", 45},
	{"Brockton", "MA", "023", "508", 45},
	{"Worcester", "MA", "016", "508", 60},
	{"Lowell", "MA", "018", "978", 45},
	{"Springfield", "MA", "011", "413", 40},
	{"Providence", "RI", "029", "401", 35},
	{"Manchester", "NH", "031", "603", 25},
	{"Hartford", "CT", "061", "860", 20},
	{"New York", "NY", "100", "212", 15},
	{"Chicago", "IL", "606", "312", 8},
	{"Phoenix", "AZ", "850", "602", 6},
	{"Miami", "FL", "331", "305", 8},
	{"Claremont", "NH", "036", "603", 4},
	{"Canaan", "VT", "059", "802", 3},
	{"New London", "CT", "063", "860", 4},
	{"New York", "NY", "102", "212", 3},
	{"Washington", "DC", "203", "202", 3},
	{"Grand Marais", "MN", "556", "218", 3},
	{"Valentine", "NE", "692", "402", 3},
	{"Canyon", "TX", "790", "806", 3},
	{"Yellowstone National Park", "WY", "821", "307", 3},
	{"Rawlins", "WY", "823", "307", 3},
	{"Jackson", "WY", "830", "307", 3},
	{"Socorro", "NM", "878", "575", 3},
	{"Beatty", "NV", "890", "775", 3},
	{"Ely", "NV", "893", "775", 3},
}

var femaleNames = []string{
	"Mary", "Patricia", "Jennifer", "Linda", "Elizabeth", "Barbara", "Susan", "Jessica", "Sarah", "Karen",
	"Lisa", "Nancy", "Betty", "Margaret", "Sandra", "Ashley", "Kimberly", "Emily", "Donna", "Michelle",
	"Carol", "Amanda", "Dorothy", "Melissa", "Deborah", "Stephanie", "Rebecca", "Sharon", "Laura", "Cynthia",
	"Maria", "Ana", "Sofia", "Lucia", "Chloé", "Zoë", "Mei", "Aisha", "Fatima", "Priya",
	"Olivia", "Emma", "Ava", "Isabella", "Mia", "Amelia", "Harper", "Evelyn", "Abigail", "Ella",
	"Nguyet", "Thu", "Yesenia", "Guadalupe", "Siobhan", "Niamh", "Ingrid", "Astrid", "Keiko", "Hana",
}

var maleNames = []string{
	"James", "Robert", "John", "Michael", "David", "William", "Richard", "Joseph", "Thomas", "Charles",
	"Christopher", "Daniel", "Matthew", "Anthony", "Mark", "Donald", "Steven", "Paul", "Andrew", "Joshua",
	"Kenneth", "Kevin", "Brian", "George", "Timothy", "Ronald", "Edward", "Jason", "Jeffrey", "Ryan",
	"José", "Luis", "Carlos", "Juan", "Miguel", "Wei", "Hiroshi", "Omar", "Ahmed", "Raj",
	"Liam", "Noah", "Oliver", "Elijah", "Lucas", "Mason", "Logan", "Ethan", "Jacob", "Aiden",
	"Duc", "Minh", "Seamus", "Padraig", "Lars", "Sven", "Kwame", "Kofi", "Tomás", "Mateo",
}

var familyNames = []string{
	"Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
	"Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
	"Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson",
	"Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores",
	"Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts",
	"O'Brien", "O'Connor", "McCarthy", "Sullivan", "Murphy", "Kelly", "Fitzgerald", "Walsh", "Doyle", "Byrne",
	"Chen", "Wang", "Li", "Zhang", "Liu", "Patel", "Shah", "Kumar", "Singh", "Gupta",
	"Tran", "Pham", "Le", "Kim", "Park", "Choi", "Tanaka", "Suzuki", "Sato", "Yamamoto",
	"Silva", "Santos", "Oliveira", "Costa", "Pereira", "Müller", "Schmidt", "Novak", "Kowalski", "Ivanova",
	"Smith-Jones", "Garcia-Lopez", "Okafor", "Mensah", "Abdullah", "Haddad", "Cohen", "Levy", "Rossi", "Bianchi",
}

var streetNames = []string{
	"Main", "Oak", "Pine", "Maple", "Cedar", "Elm", "Washington", "Lake", "Hill", "Park",
	"Walnut", "Chestnut", "Beacon", "Harbor", "River", "Summer", "Winter", "Spring", "Union", "Highland",
}

var streetSuffixes = []string{"St", "Ave", "Rd", "Ln", "Dr", "Ct", "Way", "Pl", "Ter", "Blvd"}

var emailDomains = []string{"example.com", "example.org", "example.net"}

// condition kinds
const (
	condHTN = iota
	condDM
	condHLD
	condAsthma
	condCKD
	nConds
)

type condition struct {
	snomed, snomedName string
	icd, icdName       string
}

var conditions = [nConds]condition{
	{"59621000", "Essential hypertension (disorder)", "I10", "Essential (primary) hypertension"},
	{"44054006", "Diabetes mellitus type 2 (disorder)", "E11.9", "Type 2 diabetes mellitus without complications"},
	{"55822004", "Hyperlipidemia (disorder)", "E78.5", "Hyperlipidemia, unspecified"},
	{"195967001", "Asthma (disorder)", "J45.909", "Unspecified asthma, uncomplicated"},
	{"433144002", "Chronic kidney disease stage 3 (disorder)", "N18.30", "Chronic kidney disease, stage 3 unspecified"},
}

// drug classes (the PQA PDC target classes)
const (
	classRAS = iota
	classDM
	classStatin
	nClasses
)

// classCondition: the condition each class treats.
var classCondition = [nClasses]int{condHTN, condDM, condHLD}

type drug struct {
	rxnorm, name string
	perDay       int // tablets a day
}

// drugs per class. RxNorm SCD codes: see docs/generator.md for which were
// checked against reference data.
var drugs = [nClasses][]drug{
	classRAS: {
		{"314076", "lisinopril 10 MG Oral Tablet", 1},
		{"979492", "losartan potassium 50 MG Oral Tablet", 1},
	},
	classDM: {
		{"861007", "metformin hydrochloride 500 MG Oral Tablet", 2},
		{"860975", "24 HR metformin hydrochloride 500 MG Extended Release Oral Tablet", 1},
		{"310490", "glipizide 5 MG Oral Tablet", 1},
	},
	classStatin: {
		{"617310", "atorvastatin 20 MG Oral Tablet", 1},
		{"312961", "simvastatin 20 MG Oral Tablet", 1},
		{"859751", "rosuvastatin calcium 10 MG Oral Tablet", 1},
	},
}

// campaign is one CRM campaign; date fields are filled from the window.
type campaign struct {
	id, name, purpose, channel string
	start, end                 int64 // 0 = open
}

// Channels in fallback order.
var channels = []string{"sms", "email", "voice", "portal"}

const (
	chSMS = iota
	chEmail
	chVoice
	chPortal
)

// Appointment statuses, in the order truth.json reports them.
var apptStatuses = []string{
	"proposed", "pending", "booked", "arrived", "fulfilled",
	"cancelled", "noshow", "entered-in-error", "checked-in", "waitlist",
}

const (
	stProposed = iota
	stPending
	stBooked
	stArrived
	stFulfilled
	stCancelled
	stNoshow
	stEnteredInError
	stCheckedIn
	stWaitlist
)

// Files, in the order they are written and listed.
const (
	fPatient = iota
	fOrganization
	fLocation
	fEncounter
	fAppointment
	fCondition
	fMedicationRequest
	fMedicationDispense
	fObservation
	fCoverage
	fContacts
	fCampaigns
	fMessages
	fMessageEvents
	fSurveyResponses
	fConsents
	nFiles
)

const nFHIR = fCoverage + 1

// fileNames are paths relative to the output folder; fileKeys are the names
// truth.json counts them by (the FHIR type, or the CRM file's base name).
var (
	fileNames = [nFiles]string{
		"ehr/Patient.000.ndjson", "ehr/Organization.000.ndjson", "ehr/Location.000.ndjson",
		"ehr/Encounter.000.ndjson", "ehr/Appointment.000.ndjson", "ehr/Condition.000.ndjson",
		"ehr/MedicationRequest.000.ndjson", "ehr/MedicationDispense.000.ndjson",
		"ehr/Observation.000.ndjson", "ehr/Coverage.000.ndjson",
		"crm/contacts.csv", "crm/campaigns.csv", "crm/messages.csv", "crm/message_events.csv",
		"crm/survey_responses.csv", "crm/consents.csv",
	}
	fileKeys = [nFiles]string{
		"Patient", "Organization", "Location", "Encounter", "Appointment", "Condition",
		"MedicationRequest", "MedicationDispense", "Observation", "Coverage",
		"contacts", "campaigns", "messages", "message_events", "survey_responses", "consents",
	}
	csvHeaders = [nFiles]string{
		fContacts:        "contact_id,mrn,first_name,last_name,email,phone,preferred_channel,sms_opt_out,email_opt_out,voice_opt_out,portal_enrolled,language,created_at,updated_at",
		fCampaigns:       "campaign_id,name,purpose,channel,start_date,end_date",
		fMessages:        "message_id,contact_id,campaign_id,purpose,channel,body,sent_at,delivered_at,opened_at,replied_at,failed_at,failure_reason",
		fMessageEvents:   "event_id,message_id,event,occurred_at",
		fSurveyResponses: "response_id,contact_id,survey_id,campaign_id,item,answer,comment,answered_at",
		fConsents:        "consent_id,contact_id,channel,status,effective_at",
	}
)

// corruptible files: every Nth data line may be replaced by a malformed one
// (an NDJSON line cut in half, a CSV row cut to its first two fields).
var corruptible = [nFiles]bool{fAppointment: true, fObservation: true, fMessages: true, fMessageEvents: true}

const (
	surveyID       = "S-VISIT-1"
	surveyCampaign = "CMP-SURVEY"
)

var surveyComments = []string{
	"Dr. Patel was very thorough, thank you",
	"Waited 40 minutes past my appointment time",
	"The front desk staff were friendly and helpful",
	"Parking is a nightmare",
	"Nurse explained everything clearly",
	"Felt rushed, didn't get to ask all my questions",
	"Great experience as always",
	"Please call me back about my \"new\" prescription",
	"Telehealth link didn't work at first, but the doctor called me",
	"Much better than last time",
}

var failureReasons = [4][]string{
	{"carrier rejected", "invalid number", "landline: cannot receive SMS"},
	{"bounced: mailbox unavailable", "mailbox full", "spam filter"},
	{"no answer", "busy", "number disconnected"},
	{"session expired", "not delivered: account locked"},
}
