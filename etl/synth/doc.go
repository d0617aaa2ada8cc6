// Package synth generates a deterministic synthetic patient population as the
// files carelens ingests: a FHIR R4 Bulk Data export (ehr/), a CRM export
// (crm/, the contract in docs/crm-export.md) and truth.json, the generator's
// parameters and counts, against which the ETL and the measures are checked.
//
// Generation streams: each patient is simulated from its own random stream,
// seeded from (Options.Seed, patient index), in chunks that workers build in
// parallel and one writer appends in order, so memory stays flat in the
// number of patients and the same Options give byte-identical files whatever
// the number of workers. docs/generator.md describes the model.
package synth
