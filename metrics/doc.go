// Package metrics defines carelens' metrics as SQL files, validates them
// against the warehouse schema and computes them.
//
// # Definitions
//
// A metric is one file <name>.sql at the root of the metrics folder: a header
// of "-- key: value" comment lines, then one SELECT statement (a trailing
// semicolon is allowed). The file stays valid SQL.
//
//	-- name: no_show_rate            required, equals the file name
//	-- title: Appointment no-show rate          required
//	-- description: …                required, one line
//	-- unit: ratio                   required: ratio | count | days | score | per_1000
//	-- kind: ratio                   required: ratio | count | mean | score
//	-- direction: lower_is_better    required: higher_is_better | lower_is_better
//	-- target: 0.10                  optional number (0..1 for a ratio)
//	-- grain: month                  required default grain: month | quarter | year |
//	                                 rolling12 | measurement_year | none
//	-- dimensions: clinic, sex       optional allow-list of grouping/filter columns
//	-- spec: MEASURES.md …           optional, the specification implemented
//	-- version: 1                    required positive integer; bump when the meaning changes
//	-- scale: 1000                   optional: value = scale × numerator / denominator
//	-- dates: years                  optional: the metric needs only years (runs under safe_harbor)
//	-- membership: numerator         optional: full (default) | numerator (rows in the
//	                                 denominator alone may be counts without a patient)
//
// The header is the leading run of "-- key: value" lines; it ends at the
// first other line (a blank line, free-form comment or SQL). Unknown and
// repeated keys are errors.
//
// # The query contract
//
// The SELECT returns one row per denominator unit (an appointment, a patient,
// a survey answer, …) with these columns and no others:
//
//   - period_date DATE: the date that places the row in a period;
//   - patient_id: the patient the row is about (kept for patient-level
//     guards; the engine does not group by it). Under "membership:
//     numerator" a row in the denominator alone may instead count several
//     patients: patient_id NULL, denominator the count; the materialised
//     membership (Members, metric_members) then names the numerator's
//     patients only;
//   - one column per declared dimension, named exactly as declared; any
//     type, read as text, NULL reading "unknown";
//   - numerator and denominator: numbers. For a ratio, numerator is 0 or 1
//     and denominator 1; for a mean or score, numerator is the row's value
//     and denominator 1; for a count, numerator is the row's count;
//   - optionally value: the row's measured value (a patient's PDC, last
//     HbA1c), kept with the patient-level membership;
//   - optionally initial_population and denominator_exclusion (both or
//     neither), 0 or 1, for eCQM proportion measures: an excluded unit keeps
//     its row with denominator 0 and numerator 0, and a FHIR MeasureReport
//     (PublishMeasure, fhirreport) reports the populations from the sums.
//
// The engine wraps the query and never edits it: it keeps rows with
// period_date between the query's from and to (inclusive dates), keeps rows
// matching the dimension filters, groups by the requested period grain
// (date_trunc of period_date) and dimensions, and sums numerator and
// denominator. A group's value is sum(numerator)/sum(denominator) (ratios of
// sums, never averages of ratios); for a count it is sum(numerator). Dates
// and filter values are bound parameters; the only identifiers placed in SQL
// are the definition's own validated dimension names.
//
// # Shared macros
//
// Logic several metrics need lives once, in macros/<name>.sql: one
// "CREATE OR REPLACE TEMP MACRO <name>(…) AS <expression>" per file, named
// after it; they may call one another. The shipped ones are
// age_years(birth_date, on_date), age_band(birth_date, age_90_plus, on_date)
// for the policy bands 0-17, 18-44, 45-64, 65-74, 75-89, 90+,
// payer_at(patient, on_date) for the payer type of the coverage in force,
// and appointments_as_of(), the horizon after which appointments are still
// in the future (the data_as_of time of the newest committed ETL run: the
// export's transactionTime). Macros are temporary objects:
// they change nothing in the warehouse, work on a read-only database, and
// are created on each connection before it runs a metric.
//
// # Periods
//
// Results group by month, quarter, year, rolling12 (each month labelled
// "2024-04..2025-03" with the sums of the twelve months ending with it) or
// measurement_year (twelve months from EngineOptions.MeasurementYearStart,
// labelled "MY2025" by the year it ends in).
//
// # Materialisation
//
// Engine.Refresh runs every metric once per data snapshot and stores its
// membership (metric_members_<name>, and the view metric_members) and its
// sums by every grain and each dimension (metric_results), labelled with the
// snapshot and the metric version; a metric whose definition and snapshot
// are unchanged is skipped, and one that fails keeps its previous
// materialisation. Compute and Members read the materialisation when it is
// current and the warehouse tables otherwise (materialise.go). Two workers
// refresh metrics side by side, one taking the slowest left (by the last
// refresh's time) and the other the quickest, so heavy metrics do not
// compete for DuckDB's memory.
//
// # Fixtures
//
// Each metric has a hand-worked fixture in testdata/<name>/ (fixture.sql,
// expect.csv, members.csv), run by RunFixture, `carelens metrics test` and
// TestMetricFixtures; docs/write-a-metric.md describes the format.
//
// # Loading, computing, publishing
//
// Load parses every file, prepares each query against the real schema
// (DESCRIBE) and returns every problem as "file:line: what"; Engine.Reload
// swaps registries only when the new one is clean. Engine.Compute returns
// exact aggregates (Result), cached per snapshot, definition version and
// query. Results hold small counts and must not leave the service as they
// are: Publish and Disclose apply internal/disclosure's small-cell and
// complementary suppression and, with PublishMeasure (a FHIR
// MeasureReport's populations, built on Publish), are the only way values
// get out.
package metrics
