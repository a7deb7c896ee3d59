-- Pretty formats: a named tuple inside an array / map / unnamed tuple is multi-line JSON inside the
-- usual text ([{...},{...}], {'k':{...}}, ({...},2)), as ClickHouse 26.x writes it.
SELECT CAST([(1,'a'),(2,'b')],'Array(Tuple(x Int32, y String))') AS an, CAST(map('k',(1,'a'),'j',(2,'b')),'Map(String, Tuple(x Int32, y String))') mn, CAST(((1,'a'), 2),'Tuple(Tuple(x Int32, y String), UInt8)') tn, [CAST([], 'Array(Tuple(x Int8))')] e FORMAT PrettyCompact;
SELECT CAST([(1,'a'),(2,'b')],'Array(Tuple(x Int32, y String))') AS an, CAST(map('k',(1,'a'),'j',(2,'b')),'Map(String, Tuple(x Int32, y String))') mn, CAST(((1,'a'), 2),'Tuple(Tuple(x Int32, y String), UInt8)') tn, [CAST([], 'Array(Tuple(x Int8))')] e FORMAT Pretty;
SELECT CAST([(1,'a'),(2,'b')],'Array(Tuple(x Int32, y String))') AS an, CAST(map('k',(1,'a'),'j',(2,'b')),'Map(String, Tuple(x Int32, y String))') mn, CAST(((1,'a'), 2),'Tuple(Tuple(x Int32, y String), UInt8)') tn, [CAST([], 'Array(Tuple(x Int8))')] e FORMAT PrettySpace;
SELECT CAST(([(1,'q''s')], 'z'), 'Tuple(Array(Tuple(x Int32, y String)), String)') AS u, [CAST((NULL, toDate('2024-01-02')), 'Tuple(a Nullable(Int8), d Date)')] AS an2 FORMAT PrettyCompact;
SELECT CAST(([(1,'q''s')], 'z'), 'Tuple(Array(Tuple(x Int32, y String)), String)') AS u, [CAST((NULL, toDate('2024-01-02')), 'Tuple(a Nullable(Int8), d Date)')] AS an2 FORMAT Pretty;
SELECT CAST(([(1,'q''s')], 'z'), 'Tuple(Array(Tuple(x Int32, y String)), String)') AS u, [CAST((NULL, toDate('2024-01-02')), 'Tuple(a Nullable(Int8), d Date)')] AS an2 FORMAT PrettySpace;
