// Package etl gets data into the warehouse: jobs that read a source, map it
// through de-identification and load it into DuckDB in one transaction per
// run, accounting for every record read as loaded or quarantined.
package etl
