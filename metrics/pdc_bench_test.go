package metrics

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/carelens/carelens/internal/store"
)

// BenchmarkPDC times the per-patient PDC of pdc_statins (the metric file's
// query up to its pdc CTE: the windowed same-drug shift, the one-pass union
// that also finds the periods, eligibility) on 200 000 patients with about
// 1.4 million fills, beside a day-expansion query computing the same
// per-patient PDC in the same run. The day expansion shares the metric's
// CTEs up to the shifted fills (slices) and its exclusion evidence; it finds
// the measurement periods by grouping the fills (the interval method gets
// them from its union pass, which the day expansion must not run), applies
// the same eligibility rule, expands every shifted fill into the days it
// covers (generate_series), keeps the days in the treatment period and
// counts the distinct ones. Each query writes its rows into a temporary
// table (so the time is the query's, not the driver's) and the two tables
// must hold the same covered and treatment days for every patient-year.
// Reported: pdc-ms and dayexp-ms per run and their ratio, x-faster. Both
// times move with the machine's load; compare the ratio.
//
//	go test -tags duckdb_arrow -run '^$' -bench BenchmarkPDC -benchtime 3x ./metrics/
func BenchmarkPDC(b *testing.B) {
	ctx := context.Background()
	// A database file, as the warehouse is (an in-memory database keeps
	// its tables uncompressed).
	db, err := store.Open(ctx, filepath.Join(b.TempDir(), "pdc.duckdb"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	loadPDCValueSets(b, db)
	fills := pdcBenchData(b, db)
	// As after an ETL load, whose commit checkpoints (the WAL passes 16 MB).
	if _, err := db.ExecContext(ctx, "CHECKPOINT"); err != nil {
		b.Fatal(err)
	}
	reg, errs := Load(ctx, Builtin, db)
	if len(errs) > 0 {
		b.Fatal(errs)
	}

	intervals := pdcQuery(b, "pdc_statins", `SELECT patient_id, measure_year,
    CAST(covered_days AS BIGINT) AS covered_days, CAST(treatment_days AS BIGINT) AS treatment_days
FROM pdc`)
	dayExpansion := pdcQuery(b, "pdc_statins", `, fill_years AS (
    -- the measurement periods, found from the fills (the interval method
    -- finds them in its union pass)
    SELECT pnum, year(dispensed_on) AS measure_year, min(dispensed_on) AS ipsd,
        max(dispensed_on) AS last_fill, any_value(period_end) AS period_end
    FROM fills
    WHERE dispensed_on <= period_end
    GROUP BY pnum, year(dispensed_on)
),
denominator AS (
    -- the same rule as the metric's eligible
    SELECT y.pnum, y.measure_year, y.ipsd, y.period_end, pe.patient_id
    FROM fill_years AS y
    JOIN people AS pe ON pe.pnum = y.pnum
    ANTI JOIN excluded AS x
        ON x.pnum = y.pnum
       AND coalesce(x.from_day <= y.period_end, true)
       AND coalesce(x.to_day >= make_date(y.measure_year, 1, 1), true)
    WHERE y.last_fill > y.ipsd AND y.measure_year >= pe.adult_from
),
expanded AS (
    -- every day each shifted fill covers
    SELECT e.pnum, e.measure_year, e.ipsd, e.period_end,
        unnest(generate_series(s.first_day, s.last_day, INTERVAL 1 DAY)) AS covered_day
    FROM denominator AS e
    JOIN slices AS s ON s.pnum = e.pnum
    WHERE s.last_day >= e.ipsd AND s.first_day <= e.period_end
)
SELECT e.patient_id, e.measure_year,
    count(DISTINCT x.covered_day) FILTER (WHERE x.covered_day BETWEEN x.ipsd AND x.period_end) AS covered_days,
    CAST(e.period_end - e.ipsd + 1 AS BIGINT) AS treatment_days
FROM denominator AS e
LEFT JOIN expanded AS x ON x.pnum = e.pnum AND x.measure_year = e.measure_year
GROUP BY e.patient_id, e.measure_year, e.period_end, e.ipsd`)

	var fast, slow time.Duration
	err = withConn(ctx, db, reg, func(conn *sql.Conn) error {
		into := func(table, query string) (time.Duration, error) {
			start := time.Now()
			_, err := conn.ExecContext(ctx, "CREATE OR REPLACE TEMP TABLE "+table+" AS "+query)
			return time.Since(start), err
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			d, err := into("pdc_by_intervals", intervals)
			if err != nil {
				return err
			}
			fast += d
			b.StopTimer()
			if d, err = into("pdc_by_days", dayExpansion); err != nil {
				return err
			}
			slow += d
			if i == 0 {
				var rows, onlyIntervals, onlyDays int64
				if err := conn.QueryRowContext(ctx, `SELECT
						(SELECT count(*) FROM pdc_by_intervals),
						(SELECT count(*) FROM (SELECT * FROM pdc_by_intervals EXCEPT SELECT * FROM pdc_by_days)),
						(SELECT count(*) FROM (SELECT * FROM pdc_by_days EXCEPT SELECT * FROM pdc_by_intervals))`).
					Scan(&rows, &onlyIntervals, &onlyDays); err != nil {
					return err
				}
				if rows == 0 || onlyIntervals != 0 || onlyDays != 0 {
					b.Fatalf("%d patient-years; %d rows only by intervals, %d only by day expansion", rows, onlyIntervals, onlyDays)
				}
				b.Logf("%d fills; %d patient-years, identical by intervals and by day expansion", fills, rows)
			}
			b.StartTimer()
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(fast.Milliseconds())/float64(b.N), "pdc-ms")
	b.ReportMetric(float64(slow.Milliseconds())/float64(b.N), "dayexp-ms")
	b.ReportMetric(slow.Seconds()/fast.Seconds(), "x-faster")
}

// pdcBenchData fills db with 200 000 adults and their statin fills, made
// deterministically from hashes: 4 to 10 fills each (7 on average, about 1.4
// million), first filled between 2023-06-01 and 2024-01-26, each next fill
// 15 days early to 34 days late against the previous supply (30, 60 or 90
// days), so that fills overlap and shift, leave gaps, and run over year ends.
// A quarter of the patients take one product, a quarter alternate two
// products of one drug (atorvastatin 20 and 40 MG: shifted), a quarter
// alternate two drugs (atorvastatin and simvastatin: united, not shifted)
// and a quarter switch drug halfway. It returns the number of fills.
func pdcBenchData(b *testing.B, db *store.DB) int64 {
	const patients = 200_000
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, fmt.Sprintf(`
		INSERT INTO patients (patient_id, birth_date, birth_year, age_90_plus, sex, clinic_id, source)
		SELECT 'p' || i, birth, year(birth), false,
			CASE WHEN i %% 2 = 0 THEN 'female' ELSE 'male' END,
			'clinic-' || (i %% 7), 'ehr'
		FROM (SELECT i, DATE '1930-01-01' + CAST(hash(i, 'birth') %% 25000 AS INTEGER) AS birth
		      FROM range(%d) AS r(i))`, patients)); err != nil {
		b.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, fmt.Sprintf(`
		INSERT INTO medication_dispenses (dispense_key, patient_id, rxnorm_code, status, dispensed_on, days_supply)
		WITH people AS (
			SELECT i,
				4 + CAST(hash(i, 'fills') %% 7 AS INTEGER) AS n,
				DATE '2023-06-01' + CAST(hash(i, 'first') %% 240 AS INTEGER) AS first_fill,
				CAST(hash(i, 'pattern') %% 4 AS INTEGER) AS pattern
			FROM range(%d) AS r(i)
		),
		claims AS (
			SELECT p.i, g.k, p.n, p.first_fill, p.pattern,
				CASE CAST(hash(p.i, g.k, 'days') %% 4 AS INTEGER) WHEN 0 THEN 30 WHEN 1 THEN 30 WHEN 2 THEN 60 ELSE 90 END AS days,
				CAST(hash(p.i, g.k, 'late') %% 50 AS INTEGER) - 15 AS late
			FROM people AS p
			JOIN range(10) AS g(k) ON g.k < p.n
		),
		dated AS (
			SELECT *,
				first_fill + CAST(coalesce(sum(days + late) OVER (PARTITION BY i ORDER BY k
					ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS INTEGER) AS filled
			FROM claims
		)
		SELECT 'f' || i || '-' || k, 'p' || i,
			CASE pattern
				WHEN 0 THEN '617310'
				WHEN 1 THEN CASE WHEN k %% 2 = 0 THEN '617310' ELSE '617311' END
				WHEN 2 THEN CASE WHEN k %% 2 = 0 THEN '617310' ELSE '312961' END
				ELSE CASE WHEN 2 * k < n THEN '617310' ELSE '312961' END
			END,
			'completed', filled, days
		FROM dated`, patients)); err != nil {
		b.Fatal(err)
	}
	var n int64
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM medication_dispenses`).Scan(&n); err != nil {
		b.Fatal(err)
	}
	return n
}
