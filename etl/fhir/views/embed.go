// Package views holds carelens' SQL-on-FHIR ViewDefinitions: one JSON file
// per warehouse table the ETL fills through a view (README.md).
package views

import "embed"

// FS holds the *.json ViewDefinitions.
//
//go:embed *.json terminology/*.json
var FS embed.FS
