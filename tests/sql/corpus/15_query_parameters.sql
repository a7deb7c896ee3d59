-- Topic: ClickHouse query parameters {name:Type}.

-- parameter in WHERE
SELECT * FROM events WHERE user_id = {user_id:String};

-- numeric parameter
SELECT * FROM events WHERE value > {min_value:UInt32};

-- DateTime parameter compared to a column
SELECT count() FROM events WHERE timestamp >= {start:DateTime} AND timestamp < {end:DateTime};

-- parameter with a parametrised type
SELECT * FROM events WHERE timestamp >= {since:DateTime64(3)};

-- parameter with a Nullable type
SELECT * FROM users WHERE country = {country:Nullable(String)};

-- array parameter used with IN
SELECT * FROM events WHERE type IN {types:Array(String)};

-- parameter inside a function call
SELECT toStartOfInterval(timestamp, INTERVAL {bucket_minutes:UInt16} MINUTE) AS bucket, count() FROM events GROUP BY bucket;

-- parameter as table name identifier
SELECT count() FROM {table:Identifier};

-- parameter in LIMIT and OFFSET
SELECT * FROM events LIMIT {limit:UInt64} OFFSET {offset:UInt64};

-- parameter in the select list with alias
SELECT {label:String} AS label, count() FROM events;

-- parameter in arithmetic
SELECT value * {factor:Float64} + {shift:Float64} FROM metrics;

-- parameter in a LIKE pattern built with concat
SELECT * FROM pages WHERE url LIKE concat('%', {needle:String}, '%');

-- parameter with LowCardinality type
SELECT * FROM events WHERE type = {type:LowCardinality(String)};

-- parameter in a HAVING clause
SELECT user_id, count() AS c FROM events GROUP BY user_id HAVING c >= {min_events:UInt32};

-- parameter of Date type in a BETWEEN
SELECT * FROM events WHERE date BETWEEN {date_from:Date} AND {date_to:Date};

-- parameter inside a CTE
WITH {tz:String} AS tz SELECT toTimeZone(timestamp, tz) FROM events;
