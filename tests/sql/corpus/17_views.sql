-- Topic: CREATE VIEW and CREATE MATERIALIZED VIEW, DROP VIEW.

-- simple view
CREATE VIEW active_users AS SELECT * FROM users WHERE active = 1;

-- view with IF NOT EXISTS
CREATE VIEW IF NOT EXISTS v AS SELECT 1 AS x;

-- view over an aggregation
CREATE VIEW daily_counts AS SELECT toDate(timestamp) AS day, count() AS c FROM events GROUP BY day;

-- CREATE OR REPLACE VIEW
CREATE OR REPLACE VIEW v AS SELECT user_id FROM events;

-- materialized view with TO target
CREATE MATERIALIZED VIEW events_mv TO events_daily AS SELECT toDate(timestamp) AS day, user_id, count() AS c FROM events GROUP BY day, user_id;

-- materialized view with an inner ENGINE
CREATE MATERIALIZED VIEW mv ENGINE = SummingMergeTree ORDER BY (day, user_id) AS SELECT toDate(timestamp) AS day, user_id, count() AS c FROM events GROUP BY day, user_id;

-- materialized view with ENGINE, PARTITION BY and POPULATE
CREATE MATERIALIZED VIEW mv ENGINE = AggregatingMergeTree PARTITION BY toYYYYMM(day) ORDER BY day POPULATE AS SELECT toDate(timestamp) AS day, uniqState(user_id) AS users FROM events GROUP BY day;

-- materialized view IF NOT EXISTS with TO and database names
CREATE MATERIALIZED VIEW IF NOT EXISTS analytics.mv TO analytics.target AS SELECT * FROM analytics.source;

-- materialized view with explicit target columns
CREATE MATERIALIZED VIEW mv TO target (day Date, c UInt64) AS SELECT toDate(timestamp) AS day, count() AS c FROM events GROUP BY day;

-- materialized view that transforms JSON
CREATE MATERIALIZED VIEW parse_mv TO parsed AS SELECT JSONExtractString(data, 'type') AS type, JSONExtractString(data, 'user') AS user_id, parseDateTimeBestEffort(JSONExtractString(data, 'ts')) AS timestamp FROM raw;

-- materialized view with state combinators
CREATE MATERIALIZED VIEW uniq_mv TO uniq_daily AS SELECT toDate(timestamp) AS date, uniqState(user_id) AS users, sumState(value) AS total FROM events GROUP BY date;

-- materialized view with a join
CREATE MATERIALIZED VIEW enrich_mv TO enriched AS SELECT e.*, u.country FROM events AS e LEFT JOIN users AS u ON e.user_id = u.user_id;

-- materialized view with a WHERE filter
CREATE MATERIALIZED VIEW errors_mv TO errors AS SELECT * FROM logs WHERE level = 'error';

-- DROP VIEW
DROP VIEW active_users;

-- DROP VIEW IF EXISTS
DROP VIEW IF EXISTS analytics.mv;

-- view with UNION ALL
CREATE VIEW all_events AS SELECT * FROM events_2023 UNION ALL SELECT * FROM events_2024;

-- view with CTE
CREATE VIEW v AS WITH 10 AS n SELECT number FROM numbers(n);

-- parametrised view
CREATE VIEW events_by_user AS SELECT * FROM events WHERE user_id = {user_id:String};
