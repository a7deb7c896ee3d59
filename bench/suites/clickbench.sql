-- A ClickBench-style suite over the generated `hits` table (bench/gen_hits.py: a column subset
-- of ClickBench's hits with similar skews, July 2013).  Queries follow ClickBench's numbering
-- (cb00 = its Q0 ...), rewritten where needed so that every ORDER BY ... LIMIT has a total order
-- (tie-breakers) and thresholds fit millions rather than 100M rows.  Same header format as events.sql.
-- dataset: hits

-- name: cb00_count
-- what: count()
SELECT count() FROM hits;

-- name: cb01_count_filter
-- what: count with a selective filter on a UInt8
SELECT count() FROM hits WHERE AdvEngineID <> 0;

-- name: cb02_sum_count_avg
-- what: sum / count / avg over all rows
SELECT sum(AdvEngineID), count(), avg(ResolutionWidth) FROM hits;

-- name: cb03_avg_int64
-- what: avg of an Int64 (float accumulation)
SELECT avg(UserID) FROM hits;

-- name: cb04_count_distinct_int
-- what: COUNT(DISTINCT Int64)
SELECT count(DISTINCT UserID) FROM hits;

-- name: cb05_count_distinct_string
-- what: COUNT(DISTINCT String)
SELECT count(DISTINCT SearchPhrase) FROM hits;

-- name: cb06_min_max_date
-- what: min/max of a Date
SELECT min(EventDate), max(EventDate) FROM hits;

-- name: cb07_group_filter
-- what: GROUP BY a UInt8 with a filter
-- ordered
SELECT AdvEngineID, count() AS c FROM hits WHERE AdvEngineID <> 0 GROUP BY AdvEngineID
ORDER BY c DESC, AdvEngineID;

-- name: cb08_region_distinct_users
-- what: GROUP BY + COUNT(DISTINCT) top 10
-- ordered
SELECT RegionID, count(DISTINCT UserID) AS u FROM hits GROUP BY RegionID ORDER BY u DESC, RegionID LIMIT 10;

-- name: cb10_phone_model_users
-- what: GROUP BY a sparse String + COUNT(DISTINCT)
-- ordered
SELECT MobilePhoneModel, count(DISTINCT UserID) AS u FROM hits WHERE MobilePhoneModel <> ''
GROUP BY MobilePhoneModel ORDER BY u DESC, MobilePhoneModel LIMIT 10;

-- name: cb12_search_phrase_top
-- what: GROUP BY String top 10
-- ordered
SELECT SearchPhrase, count() AS c FROM hits WHERE SearchPhrase <> '' GROUP BY SearchPhrase
ORDER BY c DESC, SearchPhrase LIMIT 10;

-- name: cb15_user_top
-- what: high-cardinality GROUP BY Int64 top 10
-- ordered
SELECT UserID, count() AS c FROM hits GROUP BY UserID ORDER BY c DESC, UserID LIMIT 10;

-- name: cb17_user_phrase
-- what: GROUP BY two keys (Int64, String), LIMIT without total order in ClickBench: ordered here
-- ordered
SELECT UserID, SearchPhrase, count() AS c FROM hits GROUP BY UserID, SearchPhrase
ORDER BY c DESC, UserID, SearchPhrase LIMIT 10;

-- name: cb20_url_like
-- what: LIKE '%...%' over a String
SELECT count() FROM hits WHERE URL LIKE '%google%';

-- name: cb27_counter_avg_url_length
-- what: avg(length(URL)) per counter with HAVING
-- ordered
SELECT CounterID, avg(length(URL)) AS l, count() AS c FROM hits WHERE URL <> '' GROUP BY CounterID
HAVING count() > 1000 ORDER BY l DESC, CounterID LIMIT 25;

-- name: cb36_counter_62_urls
-- what: point range on the key prefix (CounterID = 62, a date range) + GROUP BY URL
-- ordered
SELECT URL, count() AS PageViews FROM hits
WHERE CounterID = 62 AND EventDate >= '2013-07-01' AND EventDate <= '2013-07-31'
  AND DontCountHits = 0 AND IsRefresh = 0 AND URL <> ''
GROUP BY URL ORDER BY PageViews DESC, URL LIMIT 10;

-- name: cb37_counter_62_titles
-- what: same range, GROUP BY Title
-- ordered
SELECT Title, count() AS PageViews FROM hits
WHERE CounterID = 62 AND EventDate >= '2013-07-01' AND EventDate <= '2013-07-31'
  AND DontCountHits = 0 AND IsRefresh = 0 AND Title <> ''
GROUP BY Title ORDER BY PageViews DESC, Title LIMIT 10;

-- name: cb42_minute_buckets
-- what: toStartOfMinute bucketing on a key range
-- ordered
SELECT toStartOfMinute(EventTime) AS m, count() AS PageViews FROM hits
WHERE CounterID = 62 AND EventDate >= '2013-07-14' AND EventDate <= '2013-07-15'
  AND IsRefresh = 0 AND DontCountHits = 0
GROUP BY m ORDER BY m LIMIT 10 OFFSET 100;
