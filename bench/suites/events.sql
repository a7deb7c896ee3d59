-- The events query suite (issue 4, Performance): ClickHouse SQL over the generated `events` table
-- (bench/gen_events.py: 90 days before 2026-01-01 UTC, ORDER BY (timestamp, user_id)).
--
-- Format: each query starts with `-- name: <id>`; optional header lines:
--   -- what: <one line>       what the query exercises (shown in the report)
--   -- ordered                compare rows in order (the query has a total ORDER BY);
--                             otherwise rows are compared as sorted multisets
--   -- approx: <rel>          numeric cells may differ by this relative bound (uniq, quantiles)
-- A query ends at its `;`.  bench/suites/events.duckdb.sql overrides queries by name for DuckDB.
-- Every ORDER BY ... LIMIT has tie-breakers so that all engines must return the same rows.

-- name: q01_count
-- what: count()
SELECT count() FROM events;

-- name: q02_group_low_card
-- what: low-cardinality GROUP BY (20 event types)
-- ordered
SELECT event_type, count() AS c FROM events GROUP BY event_type ORDER BY c DESC, event_type;

-- name: q03_daily_uniq_exact_30d
-- what: daily uniqExact(user_id) over a 30-day key range
-- ordered
SELECT toDate(timestamp) AS d, uniqExact(user_id) AS users FROM events
WHERE timestamp >= '2025-12-01 00:00:00' AND timestamp < '2025-12-31 00:00:00'
GROUP BY d ORDER BY d;

-- name: q04_point_lookup_user
-- what: point lookup on the second key column (user_id)
SELECT count(), min(timestamp), max(timestamp) FROM events WHERE user_id = 'user_404382';

-- name: q05_json_group_all_rows
-- what: JSONExtractString + GROUP BY over all rows
-- ordered
SELECT JSONExtractString(properties, 'page') AS page, count() AS c FROM events
GROUP BY page ORDER BY c DESC, page LIMIT 10;

-- name: q06_hourly_buckets
-- what: hourly bucketing (toStartOfHour) over the last week
-- ordered
SELECT toStartOfHour(timestamp) AS h, count() AS c FROM events
WHERE timestamp >= '2025-12-25 00:00:00' GROUP BY h ORDER BY h;

-- name: q07_uniq_all
-- what: uniq(user_id) over all rows (approximate)
-- approx: 0.05
SELECT uniq(user_id) FROM events;

-- name: q08_quantiles_json_filtered
-- what: quantiles of a JSON field over a filtered subset (approximate)
-- approx: 0.15
SELECT quantiles(0.5, 0.9, 0.99)(JSONExtractFloat(properties, 'amount')) FROM events
WHERE event_type = 'purchase';

-- name: q09_funnel_countif
-- what: funnel: countIf per user in a subquery
SELECT countIf(v > 0) AS viewed, countIf(v > 0 AND c > 0) AS carted,
       countIf(v > 0 AND c > 0 AND p > 0) AS purchased
FROM (
    SELECT user_id, countIf(event_type = 'view_item') AS v, countIf(event_type = 'add_to_cart') AS c,
           countIf(event_type = 'purchase') AS p
    FROM events GROUP BY user_id
);

-- name: q10_one_hour_range
-- what: one-hour key-range filter
SELECT count(), uniqExact(user_id) FROM events
WHERE timestamp >= '2025-12-15 14:00:00' AND timestamp < '2025-12-15 15:00:00';

-- name: q11_limit_by
-- what: LIMIT BY: top-2 users per event type
-- ordered
SELECT event_type, user_id, count() AS c FROM events GROUP BY event_type, user_id
ORDER BY event_type, c DESC, user_id LIMIT 2 BY event_type;

-- name: q12_group_high_card_top10
-- what: high-cardinality GROUP BY user_id, top 10
-- ordered
SELECT user_id, count() AS c FROM events GROUP BY user_id ORDER BY c DESC, user_id LIMIT 10;

-- name: q13_latest_20_of_user
-- what: the latest 20 rows of one user
-- ordered
SELECT timestamp, event_type, event_id FROM events WHERE user_id = 'user_404382'
ORDER BY timestamp DESC, event_id LIMIT 20;

-- name: q14_uniq_exact_all
-- what: uniqExact(user_id) over all rows
SELECT uniqExact(user_id) FROM events;

-- name: q15_revenue_by_plan
-- what: sum/avg of a JSON number grouped by a JSON string, filtered
-- ordered
SELECT JSONExtractString(properties, 'plan') AS plan, count() AS c,
       round(sum(JSONExtractFloat(properties, 'amount')), 2) AS revenue
FROM events WHERE event_type IN ('purchase', 'subscribe') GROUP BY plan ORDER BY plan;

-- name: q16_weekday
-- what: toDayOfWeek bucketing over all rows
-- ordered
SELECT toDayOfWeek(timestamp) AS dow, count() AS c FROM events GROUP BY dow ORDER BY dow;

-- name: q17_min_max_ts
-- what: min/max of the first key column
SELECT min(timestamp), max(timestamp) FROM events;

-- name: q18_like_scan
-- what: LIKE over a string column (full scan)
SELECT count() FROM events WHERE properties LIKE '%/pricing%';

-- name: q19_avg_having
-- what: GROUP BY with HAVING over a derived value
-- ordered
SELECT event_type, count() AS c, uniqExact(user_id) AS u FROM events
WHERE timestamp >= '2025-11-01 00:00:00' GROUP BY event_type HAVING c > 100 ORDER BY event_type;
