-- A string literal's column name escapes \n \t \r \0 \b \f \\ and ' with a backslash, as ClickHouse does
-- (other control bytes stay raw); the TSV header then escapes those backslashes again.
SELECT 'a\nb', '\t', 'it''s', 'back\\slash', 'cr\rlf', 'nul\0', 'bs\bff\f', 'é', 'ctl\x01\x7f\v\x1b' FORMAT TSVWithNames;
SELECT concat('a\n', 'b'), CAST('x\ty', 'String'), length('q\'q') FORMAT TSVWithNames;
SELECT 'a\nb', 'it''s' FORMAT CSVWithNames;
