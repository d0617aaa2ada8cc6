package synth

// Canary identifiers (Options.Canaries): every identifying field of every
// Patient and CRM contact holds a value unique to that field of that person,
// so a test can grep any artefact (warehouse values, the DuckDB file's
// bytes, logs) for every one of them. Person k is 2i for patient i (and its
// own CRM contact, the same person) and 2i+1 for the unmatched contact patient
// i brings; its tag is k in base 36, zero-padded to 5 characters (36^5 >
// 2 × MaxPatients), so no canary is a prefix of another of its field.
//
//	Patient.id            ZcanaryP<tag>
//	given, middle, family ZcanaryG<tag>, ZcanaryM<tag>, ZcanaryF<tag>
//	MRN                   ZcanaryR<tag> (contacts carry the patient's, so they still link)
//	SSN                   9AA-GG-SSSS: area 900-920, group 01-99, serial 0001-9999, a bijection of k
//	phone                 N9X-EEE-LLLL: area codes with 9 in the middle, reserved by NANPA and never assigned, a bijection of k
//	e-mail                canary.<tag>@canary.invalid (.invalid is reserved, RFC 2606)
//	street line           <number> ZcanaryS<tag> <suffix>
//	city                  ZcanaryT<tag>
//	Coverage.subscriberId ZcanaryH<tag>-<n>, n counting the patient's coverages from 1
//	contact_id            ZcanaryC<tag>
//	other resource ids    ZcanaryX<tag>-<n><rest of the UUID drawn>, 36 characters, n counting the
//	                      patient's ids in base 36 (6 digits); Organization and Location ids stay
//	message body          the usual text (with the canary given name) + " ZcanaryB<tag>"
//	survey comment        the usual comment + " ZcanaryN<tag>"
//
// canaries.txt lists each canary written, one per line: for composite
// fields (street line, body, comment) and record ids the Zcanary token,
// else the whole value. Canary runs draw the same random numbers as plain runs, so the
// simulation (counts, statuses, times) is the same; only identifying text
// differs.

const canaryFile = "canaries.txt"

// canaryTag returns k in base 36, zero-padded to 5 digits.
func canaryTag(k int) (t [5]byte) {
	const digits = "0123456789abcdefghijklmnopqrstuvwxyz"
	for i := 4; i >= 0; i-- {
		t[i] = digits[k%36]
		k /= 36
	}
	return t
}

// appendCanary appends the canary token of a field (G, F, P, …) of person k.
func appendCanary(b []byte, field byte, k int) []byte {
	t := canaryTag(k)
	b = append(b, "Zcanary"...)
	b = append(b, field)
	return append(b, t[:]...)
}

func canary(field byte, k int) string { return string(appendCanary(nil, field, k)) }

// appendCanarySSN appends person k's SSN in the never-issued 9XX area.
func appendCanarySSN(b []byte, k int) []byte {
	serial := 1 + k%9999
	r := k / 9999
	b = append(b, '9')
	b = appendPadded(b, int64(r/99), 2)
	b = append(b, '-')
	b = appendPadded(b, int64(1+r%99), 2)
	b = append(b, '-')
	return appendPadded(b, int64(serial), 4)
}

// appendCanaryPhone appends person k's phone number in an N9X area code.
func appendCanaryPhone(b []byte, k int) []byte {
	line := k % 10000
	r := k / 10000
	exchange := 200 + r%800
	ai := r / 800 // < 80 for k < 640 M
	b = appendInt(b, int64((2+ai/10)*100+90+ai%10))
	b = append(b, '-')
	b = appendInt(b, int64(exchange))
	b = append(b, '-')
	return appendPadded(b, int64(line), 4)
}

func appendCanaryEmail(b []byte, k int) []byte {
	t := canaryTag(k)
	b = append(b, "canary."...)
	b = append(b, t[:]...)
	return append(b, "@canary.invalid"...)
}

// canaryRecordID turns a drawn resource id (a UUID) into the patient's next
// canary record id, of the same length: ZcanaryX<tag>-<n> replaces its
// first 20 characters.
func (g *gen) canaryRecordID(id *rid) {
	var head [20]byte
	b := appendCanary(head[:0], 'X', 2*g.idx)
	n := canaryTag(g.recSeq)
	b = append(append(b, '-', '0'), n[:]...)
	g.recSeq++
	copy(id[:], b)
}

// noteCanary lists s in the chunk's canaries.
func (c *chunk) noteCanary(s []byte) {
	c.canaries = append(append(c.canaries, s...), '\n')
	c.nCanaries++
}

func (c *chunk) noteCanaryString(s string) {
	c.canaries = append(append(c.canaries, s...), '\n')
	c.nCanaries++
}
