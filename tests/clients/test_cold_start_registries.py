"""A server's first concurrent queries resolve functions while the registries load: 16 threads in a
fresh process must all see the full registries (found by the live concurrency test: NOT_AN_AGGREGATE
for max() and UNKNOWN_FUNCTION while another thread was still importing the function modules)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CODE = r'''
import threading
from mergetree.functions.aggregate.registry import is_aggregate
from mergetree.functions.registry import get_function
errors, barrier = [], threading.Barrier(16)
def first_query():
    barrier.wait()
    try:
        assert is_aggregate("max") and is_aggregate("uniqExact") and is_aggregate("sumIf")
        get_function("toDate"); get_function("lower")
    except BaseException as e:
        errors.append(repr(e))
threads = [threading.Thread(target=first_query) for _ in range(16)]
[t.start() for t in threads]; [t.join() for t in threads]
print(len(errors), errors[:1])
'''


def test_registries_load_once_for_concurrent_first_queries():
    for _ in range(1):
        out = subprocess.run([sys.executable, "-c", CODE], cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr[-2000:]
        assert out.stdout.strip() == "0 []"
