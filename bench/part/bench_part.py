"""Part-level write/read throughput on generated events: `python -m bench.part.bench_part 1e6` (from the repo root).

Measures write_part and DataPart.read directly, below the table layer (no sorting, no partitioning).
"""
import os, shutil, sys, tempfile, time
from pathlib import Path
import numpy as np
from bench import gen_events as ge
from mergetree.column import Block, FixedColumn
from mergetree.types import parse_type
from mergetree.storage.part_writer import write_part
from mergetree.storage.part import DataPart, ReadStats

N = int(float(sys.argv[1])) if len(sys.argv) > 1 else 1_000_000
cols = ge.generate_events(N, sort=True)
block = ge.events_block(cols)
rng = np.random.default_rng(0)
block = Block({**block.columns, "duration": FixedColumn(parse_type("UInt32"), rng.integers(0, 100_000, N).astype(np.uint32))})
raw = sum(c.nbytes for c in block.columns.values())
print(f"rows={N} in-memory bytes={raw/1e6:.1f} MB  columns={block.names}")
base = Path(tempfile.mkdtemp(prefix="mergetree-partbench-"))
key = Block({"timestamp": block["timestamp"], "user_id": block["user_id"]})
best = bestc = 1e9
for i in range(3):
    d = base / f"tmp_{i}"
    t = time.perf_counter(); c = time.process_time()
    write_part(d, block, primary_key=key, partition_value=(), minmax={})
    best = min(best, time.perf_counter() - t); bestc = min(bestc, time.process_time() - c)
print(f"write: wall {best:.3f}s = {N/best/1e6:.2f} M rows/s; cpu {bestc:.3f}s = {N/bestc/1e6:.2f} M rows/s")
part = DataPart.open(base / "tmp_0")
print(f"bytes on disk: {part.bytes_on_disk/1e6:.2f} MB = {part.bytes_on_disk/N:.2f} B/row")
for n in block.names:
    print(f"   {n:12s} {part.column_bytes_on_disk(n)/N:7.2f} B/row  {part._serialization[n]['kind']}")
for col in ["timestamp", "duration", "properties", "user_id", "event_id"]:
    best = bestc = 1e9
    for _ in range(7):
        st = ReadStats()
        t = time.perf_counter(); c0 = time.process_time(); b = part.read([col], stats=st)
        best = min(best, time.perf_counter() - t); bestc = min(bestc, time.process_time() - c0)
    dec = b[col].nbytes
    print(f"read {col:10s}: wall {best*1e3:6.1f} ms = {N/best/1e6:7.1f} M rows/s {dec/best/1e9:5.2f} GB/s | "
          f"cpu {bestc*1e3:6.1f} ms = {N/bestc/1e6:7.1f} M rows/s {dec/bestc/1e9:5.2f} GB/s  (decoded {dec/1e6:.0f} MB, read {st.bytes_read/1e6:.1f} MB)")
ts = part.read(["timestamp"])["timestamp"].values
t = time.perf_counter(); s = int(ts.sum(dtype=np.uint64)); dt = time.perf_counter() - t
print(f"scan of decoded timestamp (sum): {N/dt/1e9:.2f} G rows/s")
shutil.rmtree(base)
