"""Cost of recording tinybird.pipe_stats_rt (server/service_ds.py), in-process, no HTTP.

    python -m bench.bench_service_ds

Prints the hot path per endpoint request (set_result_stats + record_pipe_request on a real starlette
Request/Response, minus an empty call measured in the same run) and the writer thread's CPU per logged
request (20,000 buffered requests turned into one block and inserted)."""
import tempfile, time, timeit
from pathlib import Path
from starlette.requests import Request
from starlette.responses import Response
from mergetree.server.engine import Engine
from mergetree.server import service_ds as S

d = Path(tempfile.mkdtemp())
engine = Engine(d / "tables", d / "reg.json")
rec = S.ServiceSources(engine, enabled=True, interval=3600)
class Svc: route = None; pipes = {"user_activity"}; service_ds = rec
class State: service = Svc()
class App: state = State()
class R:   # result stand-in
    statistics = {"rows_read": 100, "bytes_read": 8000}; num_rows = 3
scope = {"type": "http", "method": "GET", "path": "/v0/pipes/user_activity.json", "query_string": b"user_id=user_123&days=30",
         "headers": [(b"host", b"127.0.0.1:7181"), (b"user-agent", b"bench")], "path_params": {"name": "user_activity", "fmt": "json"},
         "app": App(), "state": {}}
req = Request(scope); req.scope["app"] = App()
resp = Response(b"{}", media_type="application/json")
N = 200_000
def hook():
    S.set_result_stats(req, R)
    S.record_pipe_request(req, resp, time.time(), time.perf_counter())
    del resp.raw_headers[-1]
base = min(timeit.repeat(lambda: None, number=N, repeat=3)) / N
t = min(timeit.repeat(hook, number=N, repeat=3)) / N
print(f"hot path per request: {(t - base) * 1e6:.2f} us (noop call {base * 1e6:.2f} us)")
rec._requests.clear()
for _ in range(20_000):
    hook()
c0 = time.process_time(); n = rec.flush(); c1 = time.process_time()
print(f"writer: {n} rows in {(c1 - c0) * 1e3:.0f} ms CPU = {(c1 - c0) / n * 1e6:.1f} us/row")
print(engine.run("SELECT count(), uniqExact(request_id) FROM tinybird.pipe_stats_rt").rows)
rec.close(); engine.close()
