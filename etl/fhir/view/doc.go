// Package view runs SQL-on-FHIR v2 ViewDefinitions: it turns each FHIR
// resource into the rows of a flat table declaratively, so that carelens maps
// resources to warehouse tables with one JSON ViewDefinition per table.
//
// Parse decodes and validates a ViewDefinition, Compile turns it into a View
// whose Rows method is called once per resource (decoded with
// encoding/json's UseNumber) on the ETL hot path. Row semantics follow the
// specification's processing model: forEach, forEachOrNull and repeat unnest,
// nested selects and sibling selects are cross-joined, unionAll concatenates.
// RunSuite runs the public conformance suite and writes its test report.
//
// Column values are nil, string, bool, json.Number (numbers, with their exact
// decimal text), map[string]any (a complex value, for columns whose type is
// not primitive) or, for collection columns, []any of those.
package view
