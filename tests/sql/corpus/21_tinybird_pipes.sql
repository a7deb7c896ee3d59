-- Topic: Tinybird-style pipe nodes: dashboard endpoint queries with many clauses (ClickHouse query parameters
-- stand in for Tinybird's template variables).

-- top pages endpoint
SELECT
    pathname,
    uniqMerge(visits) AS visits,
    countMerge(hits) AS hits
FROM analytics_pages_mv
WHERE date >= {date_from:Date} AND date <= {date_to:Date}
GROUP BY pathname
ORDER BY visits DESC
LIMIT {skip:UInt32}, {limit:UInt32};

-- KPIs endpoint with CTEs, a join and a fill
WITH
    toStartOfHour(timestamp) AS hour_bucket,
    sessions AS (
        SELECT
            session_id,
            min(timestamp) AS first_hit,
            max(timestamp) AS last_hit,
            count() AS hits,
            argMin(pathname, timestamp) AS entry_page
        FROM analytics_hits
        WHERE timestamp >= {start:DateTime} AND timestamp < {end:DateTime}
        GROUP BY session_id
    ),
    bounces AS (
        SELECT session_id FROM sessions WHERE hits = 1
    )
SELECT
    toStartOfHour(s.first_hit) AS hour,
    uniq(s.session_id) AS visits,
    sum(s.hits) AS pageviews,
    countIf(s.session_id IN (SELECT session_id FROM bounces)) / uniq(s.session_id) AS bounce_rate,
    avg(dateDiff('second', s.first_hit, s.last_hit)) AS avg_session_sec
FROM sessions AS s
GROUP BY hour
ORDER BY hour ASC WITH FILL FROM toStartOfHour({start:DateTime}) TO toStartOfHour({end:DateTime}) STEP 3600
SETTINGS max_threads = 2
FORMAT JSON;

-- trend endpoint with window functions and QUALIFY
SELECT
    toDate(timestamp) AS day,
    device,
    browser,
    count() AS hits,
    uniqExact(session_id) AS sessions,
    sum(count()) OVER (PARTITION BY device ORDER BY day ROWS BETWEEN 6 PRECEDING AND CURRENT ROW) AS hits_7d,
    row_number() OVER (PARTITION BY day ORDER BY count() DESC) AS rank_in_day
FROM analytics_hits
PREWHERE timestamp >= now() - INTERVAL 30 DAY
WHERE device IN ('desktop', 'mobile-ios', 'mobile-android')
    AND browser NOT LIKE '%bot%'
    AND NOT isNull(session_id)
GROUP BY day, device, browser
HAVING hits > 10
QUALIFY rank_in_day <= 5
ORDER BY day DESC, hits DESC
LIMIT 3 BY day
LIMIT 100;

-- top sources with array join of UTM tags and rollup
SELECT
    domainWithoutWWW(referrer) AS referrer_domain,
    utm.1 AS utm_key,
    utm.2 AS utm_value,
    count() AS hits,
    uniq(session_id) AS visits,
    quantiles(0.5, 0.9)(load_time_ms) AS load_p50_p90
FROM analytics_hits
ARRAY JOIN arrayZip(mapKeys(utm_tags), mapValues(utm_tags)) AS utm
WHERE
    timestamp BETWEEN {start:DateTime} AND {end:DateTime}
    AND referrer != ''
    AND (utm_key = 'utm_source' OR utm_key = 'utm_medium')
GROUP BY referrer_domain, utm_key, utm_value WITH ROLLUP
HAVING visits >= {min_visits:UInt32}
ORDER BY hits DESC
LIMIT 50
SETTINGS max_bytes_before_external_group_by = 1000000000;

-- funnel endpoint
SELECT
    level,
    count() AS users,
    users / max(users) OVER () AS conversion
FROM
(
    SELECT
        user_id,
        windowFunnel(86400)(
            timestamp,
            type = 'view_product',
            type = 'add_to_cart',
            type = 'checkout',
            type = 'purchase'
        ) AS level
    FROM events
    WHERE date >= today() - 7
      AND type IN ('view_product', 'add_to_cart', 'checkout', 'purchase')
    GROUP BY user_id
)
WHERE level > 0
GROUP BY level
ORDER BY level ASC;

-- retention cohort endpoint with a left join
SELECT
    c.cohort_week,
    dateDiff('week', c.cohort_week, toStartOfWeek(a.timestamp)) AS week_number,
    uniqExact(a.user_id) AS active_users,
    any(c.cohort_size) AS cohort_size,
    round(active_users / cohort_size * 100, 2) AS retention_pct
FROM
(
    SELECT
        user_id,
        toStartOfWeek(min(timestamp)) AS cohort_week,
        count() OVER (PARTITION BY toStartOfWeek(min(timestamp))) AS cohort_size
    FROM events
    GROUP BY user_id
) AS c
LEFT JOIN events AS a ON a.user_id = c.user_id
WHERE a.timestamp >= c.cohort_week
  AND c.cohort_week >= toStartOfWeek(now() - INTERVAL 12 WEEK)
GROUP BY c.cohort_week, week_number
ORDER BY c.cohort_week ASC, week_number ASC;

-- realtime errors endpoint with multiIf, CASE and a final subquery
SELECT
    service,
    multiIf(status >= 500, '5xx', status >= 400, '4xx', 'other') AS status_class,
    CASE
        WHEN latency_ms < 100 THEN 'fast'
        WHEN latency_ms < 1000 THEN 'ok'
        ELSE 'slow'
    END AS latency_bucket,
    count() AS requests,
    countIf(status >= 500) AS errors,
    errors / requests AS error_rate,
    quantile(0.99)(latency_ms) AS p99
FROM requests FINAL
WHERE timestamp > now() - INTERVAL {minutes:UInt16} MINUTE
  AND service IN (SELECT service FROM services WHERE team = {team:String})
GROUP BY service, status_class, latency_bucket
ORDER BY error_rate DESC, requests DESC
LIMIT 20;

-- endpoint using a UNION of two sources and an outer aggregation
SELECT
    source,
    toStartOfDay(ts) AS day,
    sum(amount) AS revenue,
    count() AS orders,
    revenue / orders AS avg_order
FROM
(
    SELECT 'web' AS source, created_at AS ts, total AS amount FROM web_orders WHERE status = 'paid'
    UNION ALL
    SELECT 'app' AS source, created_at AS ts, total AS amount FROM app_orders WHERE status = 'paid'
)
WHERE ts >= toStartOfMonth(today())
GROUP BY source, day
ORDER BY day ASC, source ASC;

-- materializing pipe node with state aggregates
SELECT
    toStartOfFifteenMinutes(timestamp) AS ts_bucket,
    tenant_id,
    lower(event_type) AS type,
    uniqState(user_id) AS users,
    countState() AS events,
    sumState(toUInt64(duration_ms)) AS duration,
    quantilesState(0.5, 0.95)(duration_ms) AS duration_quantiles,
    groupUniqArrayState(100)(country) AS countries
FROM raw_events
WHERE event_type != '' AND tenant_id > 0
GROUP BY ts_bucket, tenant_id, type;

-- endpoint reading the materialized states
SELECT
    ts_bucket,
    type,
    uniqMerge(users) AS users,
    countMerge(events) AS events,
    sumMerge(duration) / events AS avg_duration_ms,
    quantilesMerge(0.5, 0.95)(duration_quantiles) AS q,
    arrayStringConcat(groupUniqArrayMerge(100)(countries), ',') AS countries
FROM events_15m_mv
WHERE tenant_id = {tenant_id:UInt32}
  AND ts_bucket >= {start:DateTime}
  AND ts_bucket < {end:DateTime}
GROUP BY ts_bucket, type
ORDER BY ts_bucket ASC, type ASC
LIMIT 10000;

-- session replay listing with JSON extraction
SELECT
    session_id,
    min(timestamp) AS started_at,
    max(timestamp) AS ended_at,
    dateDiff('second', started_at, ended_at) AS duration_s,
    any(JSONExtractString(payload, 'user_agent')) AS user_agent,
    groupArray(JSONExtractString(payload, 'pathname')) AS pages,
    length(pages) AS page_count,
    has(pages, '/checkout') AS reached_checkout
FROM analytics_events
WHERE
    tenant = {tenant:String}
    AND timestamp >= {start:DateTime64(3)}
    AND JSONHas(payload, 'pathname')
GROUP BY session_id
HAVING page_count > 1
ORDER BY started_at DESC
LIMIT {page_size:UInt32} OFFSET {page:UInt32} * {page_size:UInt32};

-- geo breakdown with GROUPING SETS
SELECT
    country,
    region,
    city,
    count() AS hits,
    uniq(user_id) AS users,
    grouping(country, region, city) AS level
FROM analytics_hits
WHERE timestamp >= now() - INTERVAL 1 DAY
GROUP BY GROUPING SETS ((country), (country, region), (country, region, city))
ORDER BY level ASC, hits DESC
LIMIT 500;

-- percentile dashboard with array functions and lambdas
SELECT
    endpoint,
    count() AS calls,
    arrayMap(q -> round(q, 1), quantiles(0.5, 0.75, 0.9, 0.99)(latency_ms)) AS latency_quantiles,
    arrayFilter(x -> x > 1000, groupArray(latency_ms)) AS slow_calls,
    length(slow_calls) AS slow_count,
    sumIf(bytes, status = 200) AS ok_bytes,
    formatReadableSize(ok_bytes) AS ok_size
FROM api_logs
WHERE date = today()
  AND endpoint LIKE '/v0/%'
  AND endpoint NOT ILIKE '%health%'
GROUP BY endpoint
ORDER BY calls DESC
LIMIT 25;

-- 30-line dashboard endpoint node (also the parser benchmark's pipe node)
WITH
    {tz:String} AS tz,
    toStartOfInterval(toTimeZone(timestamp, tz), INTERVAL 1 HOUR) AS bucket
SELECT
    bucket,
    tenant_id,
    lower(event_type) AS type,
    count() AS events,
    uniqExact(user_id) AS users,
    sumIf(amount, event_type = 'purchase') AS revenue,
    round(revenue / nullIf(users, 0), 2) AS revenue_per_user,
    quantiles(0.5, 0.9, 0.99)(duration_ms) AS duration_q,
    argMax(country, timestamp) AS last_country,
    countIf(status >= 500) / count() AS error_rate
FROM events AS e
LEFT JOIN tenants AS t ON e.tenant_id = t.id
WHERE timestamp >= {start:DateTime} AND timestamp < {end:DateTime}
  AND tenant_id IN {tenants:Array(UInt32)}
  AND event_type NOT IN ('heartbeat', 'debug')
  AND (country = {country:String} OR {country:String} = '')
  AND t.plan != 'free'
GROUP BY bucket, tenant_id, type
HAVING events > 0
ORDER BY bucket ASC, events DESC
LIMIT 5 BY bucket
LIMIT {limit:UInt32}
SETTINGS max_threads = 2, max_execution_time = 10
FORMAT JSON;
