// Package disclosure is carelens' one small-cell suppression mechanism: every
// aggregate that leaves the service (JSON responses, dashboard chart data,
// CSV downloads, cohort previews) passes through it before it is rendered.
//
// The rules (docs: ../shared/PRIVACY.md, "Disclosure control"):
//
//   - Primary suppression. A count from 1 to Threshold-1 is never shown;
//     0 may be shown. The default threshold is 11 (CMS, PCORnet).
//   - Ratio cells. A numerator that counts units is hidden when it is small;
//     the value (rate, mean) is hidden whenever its numerator or denominator
//     is; a cell whose denominator is small hides everything, numerator
//     included, whatever the numerator's size.
//   - Complementary suppression. When a table's totals along a dimension are
//     shown (or can be obtained by another query), a line of cells summing to
//     a visible total must not hold exactly one hidden cell, or subtraction
//     recovers it. The next-smallest visible non-zero cell of that line is
//     hidden too; when there is none, the total is hidden. This repeats across
//     every dimension until no line leaks, so a complementary cell that creates
//     a new single-hidden line elsewhere is itself covered.
//
// Suppressed parts are reported as flags on a Mask; callers render them as
// null values with "suppressed": true and never drop a cell silently.
//
// The package is pure Go and knows nothing about metrics or databases: it sees
// numbers and coordinates only.
package disclosure
