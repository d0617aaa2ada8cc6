// Package fhir reads FHIR R4 population data (Bulk Data NDJSON exports) and
// maps each resource to de-identified warehouse rows.
//
// The mapping here is hand-written Go for the resource types carelens' own
// generator and common EHR exports produce; every field that could identify a
// person is dropped or passed through the deid package on the way.
package fhir
