// Package guard is carelens' repeated-query guard: it refuses a metric result
// that, set against a result the same principal received earlier, would
// reveal a small count by subtraction (the same aggregate asked again with a
// slightly shifted period or an added filter, so that the difference is one
// small cell).
//
// Per principal the guard remembers, for a window (default 24 h) and up to a
// cap (default 200 results, oldest dropped), each published result it let
// through: metric, grouping, grain, filters, date range and every visible
// numerator and denominator, keyed by the cell's dimension values and the
// dates it covers. A new result is compared with every remembered result of
// the same metric and grouping whose filters are nested with its own (equal,
// or one a subset of the other). For each visible cell x of the broader
// result, the other result's cells with the same dimension values whose
// dates lie inside x's are summed (one cell for the same grain, several for a
// finer one: months inside a quarter, a year or a range total); if x minus
// that sum is between 1 and threshold-1 for a numerator that counts units or
// for a denominator, the difference is a small count and the result is
// refused. Identical coverage (same filters, same dates, nothing suppressed)
// is not compared, so repeating a query, or re-cutting a range along period
// boundaries, is never refused.
//
// Comparisons are map lookups and binary searches over prefix sums; the guard
// never queries the database. It is safe for concurrent use: each principal's
// check and record happen under that principal's lock, so two concurrent
// requests of one principal are compared with each other. See docs/access.md
// for the limits (pairs of results only, not sums of three or more;
// groupings are not compared with each other).
package guard
