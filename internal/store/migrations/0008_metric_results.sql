-- 0008_metric_results: metric results materialised per data snapshot
-- (metrics/materialise.go). Each metric's patient-level membership (every row
-- its query returns) lives in a table metric_members_<name> the refresh
-- replaces; its aggregates by period and dimension live here.

-- One row per metric: the membership and results now stored, and what they
-- were computed from. A metric whose version, definition text and snapshot
-- are unchanged is not computed again.
CREATE TABLE metric_refreshes (
    metric           VARCHAR NOT NULL PRIMARY KEY,
    version          INTEGER NOT NULL,
    definition_hash  VARCHAR NOT NULL, -- SHA-256 of the query and the macros it may call
    snapshot_id      BIGINT NOT NULL,
    member_rows      BIGINT NOT NULL,
    result_rows      BIGINT NOT NULL,
    refreshed_at     TIMESTAMP NOT NULL,
    seconds          DOUBLE NOT NULL
);

-- Sums of numerator and denominator (never averages of ratios) per metric,
-- grain, period and dimension value. dimension is '' for the overall rows;
-- grain is month, quarter, year, rolling12 (the twelve months ending with
-- period_start's month) or measurement_year.
CREATE TABLE metric_results (
    metric                 VARCHAR NOT NULL,
    version                INTEGER NOT NULL,
    snapshot_id            BIGINT NOT NULL,
    grain                  VARCHAR NOT NULL,
    period_start           DATE NOT NULL,
    period                 VARCHAR NOT NULL,
    dimension              VARCHAR NOT NULL,
    dim_value              VARCHAR NOT NULL,
    numerator              DOUBLE NOT NULL,
    denominator            DOUBLE NOT NULL,
    initial_population     DOUBLE,
    denominator_exclusion  DOUBLE
);
