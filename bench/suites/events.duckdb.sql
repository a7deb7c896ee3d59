-- DuckDB spellings of the events suite queries whose ClickHouse SQL DuckDB does not accept
-- (same `-- name:` as in events.sql; headers other than the name are taken from events.sql).

-- name: q01_count
SELECT count(*) FROM events;

-- name: q02_group_low_card
SELECT event_type, count(*) AS c FROM events GROUP BY event_type ORDER BY c DESC, event_type;

-- name: q03_daily_uniq_exact_30d
SELECT CAST(timestamp AS DATE) AS d, count(DISTINCT user_id) AS users FROM events
WHERE timestamp >= TIMESTAMP '2025-12-01 00:00:00' AND timestamp < TIMESTAMP '2025-12-31 00:00:00'
GROUP BY d ORDER BY d;

-- name: q04_point_lookup_user
SELECT count(*), min(timestamp), max(timestamp) FROM events WHERE user_id = 'user_404382';

-- name: q05_json_group_all_rows
SELECT coalesce(json_extract_string(properties, '$.page'), '') AS page, count(*) AS c FROM events
GROUP BY page ORDER BY c DESC, page LIMIT 10;

-- name: q06_hourly_buckets
SELECT date_trunc('hour', timestamp) AS h, count(*) AS c FROM events
WHERE timestamp >= TIMESTAMP '2025-12-25 00:00:00' GROUP BY h ORDER BY h;

-- name: q07_uniq_all
SELECT approx_count_distinct(user_id) FROM events;

-- name: q08_quantiles_json_filtered
SELECT quantile_cont(coalesce(TRY_CAST(json_extract(properties, '$.amount') AS DOUBLE), 0),
                     [0.5, 0.9, 0.99]) FROM events
WHERE event_type = 'purchase';

-- name: q09_funnel_countif
SELECT count(*) FILTER (WHERE v > 0) AS viewed, count(*) FILTER (WHERE v > 0 AND c > 0) AS carted,
       count(*) FILTER (WHERE v > 0 AND c > 0 AND p > 0) AS purchased
FROM (
    SELECT user_id, count(*) FILTER (WHERE event_type = 'view_item') AS v,
           count(*) FILTER (WHERE event_type = 'add_to_cart') AS c,
           count(*) FILTER (WHERE event_type = 'purchase') AS p
    FROM events GROUP BY user_id
);

-- name: q10_one_hour_range
SELECT count(*), count(DISTINCT user_id) FROM events
WHERE timestamp >= TIMESTAMP '2025-12-15 14:00:00' AND timestamp < TIMESTAMP '2025-12-15 15:00:00';

-- name: q11_limit_by
SELECT event_type, user_id, c FROM (
    SELECT event_type, user_id, count(*) AS c FROM events GROUP BY event_type, user_id
) QUALIFY row_number() OVER (PARTITION BY event_type ORDER BY c DESC, user_id) <= 2
ORDER BY event_type, c DESC, user_id;

-- name: q12_group_high_card_top10
SELECT user_id, count(*) AS c FROM events GROUP BY user_id ORDER BY c DESC, user_id LIMIT 10;

-- name: q14_uniq_exact_all
SELECT count(DISTINCT user_id) FROM events;

-- name: q15_revenue_by_plan
SELECT coalesce(json_extract_string(properties, '$.plan'), '') AS plan, count(*) AS c,
       round(sum(coalesce(TRY_CAST(json_extract(properties, '$.amount') AS DOUBLE), 0)), 2) AS revenue
FROM events WHERE event_type IN ('purchase', 'subscribe') GROUP BY plan ORDER BY plan;

-- name: q16_weekday
SELECT isodow(timestamp) AS dow, count(*) AS c FROM events GROUP BY dow ORDER BY dow;

-- name: q18_like_scan
SELECT count(*) FROM events WHERE properties LIKE '%/pricing%';

-- name: q19_avg_having
SELECT event_type, count(*) AS c, count(DISTINCT user_id) AS u FROM events
WHERE timestamp >= TIMESTAMP '2025-11-01 00:00:00' GROUP BY event_type HAVING count(*) > 100
ORDER BY event_type;
