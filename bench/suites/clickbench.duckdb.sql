-- DuckDB spellings of clickbench.sql queries (same names).

-- name: cb00_count
SELECT count(*) FROM hits;

-- name: cb01_count_filter
SELECT count(*) FROM hits WHERE AdvEngineID <> 0;

-- name: cb02_sum_count_avg
SELECT sum(AdvEngineID), count(*), avg(ResolutionWidth) FROM hits;

-- name: cb07_group_filter
SELECT AdvEngineID, count(*) AS c FROM hits WHERE AdvEngineID <> 0 GROUP BY AdvEngineID
ORDER BY c DESC, AdvEngineID;

-- name: cb12_search_phrase_top
SELECT SearchPhrase, count(*) AS c FROM hits WHERE SearchPhrase <> '' GROUP BY SearchPhrase
ORDER BY c DESC, SearchPhrase LIMIT 10;

-- name: cb15_user_top
SELECT UserID, count(*) AS c FROM hits GROUP BY UserID ORDER BY c DESC, UserID LIMIT 10;

-- name: cb17_user_phrase
SELECT UserID, SearchPhrase, count(*) AS c FROM hits GROUP BY UserID, SearchPhrase
ORDER BY c DESC, UserID, SearchPhrase LIMIT 10;

-- name: cb20_url_like
SELECT count(*) FROM hits WHERE URL LIKE '%google%';

-- name: cb27_counter_avg_url_length
SELECT CounterID, avg(length(URL)) AS l, count(*) AS c FROM hits WHERE URL <> '' GROUP BY CounterID
HAVING count(*) > 1000 ORDER BY l DESC, CounterID LIMIT 25;

-- name: cb36_counter_62_urls
SELECT URL, count(*) AS PageViews FROM hits
WHERE CounterID = 62 AND EventDate >= DATE '2013-07-01' AND EventDate <= DATE '2013-07-31'
  AND DontCountHits = 0 AND IsRefresh = 0 AND URL <> ''
GROUP BY URL ORDER BY PageViews DESC, URL LIMIT 10;

-- name: cb37_counter_62_titles
SELECT Title, count(*) AS PageViews FROM hits
WHERE CounterID = 62 AND EventDate >= DATE '2013-07-01' AND EventDate <= DATE '2013-07-31'
  AND DontCountHits = 0 AND IsRefresh = 0 AND Title <> ''
GROUP BY Title ORDER BY PageViews DESC, Title LIMIT 10;

-- name: cb42_minute_buckets
SELECT date_trunc('minute', EventTime) AS m, count(*) AS PageViews FROM hits
WHERE CounterID = 62 AND EventDate >= DATE '2013-07-14' AND EventDate <= DATE '2013-07-15'
  AND IsRefresh = 0 AND DontCountHits = 0
GROUP BY m ORDER BY m LIMIT 10 OFFSET 100;
