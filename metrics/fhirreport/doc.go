// Package fhirreport renders carelens' proportion metrics as FHIR R4
// MeasureReport resources: the measure's populations (initial population,
// denominator, denominator exclusion, numerator) and its score over a
// measurement period, for GET /api/v1/measures/{id}/report and `carelens
// measures report` (docs/measure-report.md).
//
// A summary report is built from metrics.PublishMeasure: counts from 1 to
// the disclosure threshold minus one are absent, marked with the
// data-absent-reason extension ("masked"), and so is any count that could be
// recovered from the shown ones. A subject-list report is built from the
// metric's patient-level membership (metrics.MeasureSubjects): exact counts
// and, for each population, a contained List of Patient references
// (surrogate ids). It is for authorised callers only; the caller checks the
// permission and audits the export.
package fhirreport
