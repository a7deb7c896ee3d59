"""Open, verify and read a data part: :class:`DataPart`.

The format is documented in :mod:`mergetree.storage.part_writer`. Reading granules ``[a, b)`` of a
column, for every substream of the column:

1. take mark ``a`` = (block offset, offset in block) and mark ``b`` from the ``.mrk`` array;
2. read the ``.bin`` bytes from mark ``a``'s block to mark ``b``'s block (inclusive when mark ``b``
   points inside a block);
3. check every compressed block's CRC, decompress the blocks straight into one preallocated
   buffer (sizes come from the block headers) and undo Delta;
4. slice the buffer from mark ``a``'s in-block offset to mark ``b``'s position;
5. rebuild the column from the substreams (String: lengths -> offsets; dictionary strings: gather;
   Nullable/Array/LowCardinality recursively) as the spec's column classes.

Several mark ranges are read stream by stream and concatenated before rebuilding, so a read is
one pass per substream. Read statistics go to a :class:`ReadStats`.

Errors: anything missing, truncated or failing a checksum raises
:class:`mergetree.errors.CorruptedPartError` naming the part, the file and (for data) the column.
"""

from __future__ import annotations

import json
import mmap
import os
import weakref
from dataclasses import dataclass
from pathlib import Path

import msgpack
import numpy as np

from mergetree.errors import BadArgumentsError, CorruptedPartError, UnknownColumnError
from mergetree.storage.codecs import BLOCK_HEADER_SIZE, BlockCorruptedError, PreparedDictionary, decode_blocks
from mergetree.storage.part_info import PartInfo
from mergetree.storage.read_cache import mapped_files, next_part_uid, uncompressed_cache
from mergetree.storage.part_writer import (CHECKSUMS_FILE, COLUMNS_FILE, COUNT_FILE, MARK_DTYPE, PARTITION_FILE,
                                           PRIMARY_INDEX_FILE, SERIALIZATION_FILE, file_hash,
                                           parse_columns_txt, unescape_for_file_name, unpack_values)

__all__ = ["DataPart", "ReadStats"]


@dataclass
class ReadStats:
    """What a read touched (summed over calls): ClickHouse's read_rows / read_bytes and more."""

    rows: int = 0                 # rows returned
    marks: int = 0                # granules read
    bytes_read: int = 0           # compressed bytes read from .bin files
    bytes_decompressed: int = 0   # bytes produced by decompression (incl. parts of blocks thrown away)
    blocks: int = 0               # compressed blocks decoded
    parts: int = 0                # parts read

    def add(self, other: "ReadStats") -> None:
        for f in ("rows", "marks", "bytes_read", "bytes_decompressed", "blocks", "parts"):
            setattr(self, f, getattr(self, f) + getattr(other, f))


def _column_of_file(file: str) -> str:
    """The column a data/mark file belongs to (``a%2Eb.size0.bin`` -> ``a.b``)."""
    return unescape_for_file_name(file.split(".")[0])


class DataPart:
    """An immutable part directory opened for reading.

    Attributes: ``path``, ``name``, ``info`` (PartInfo, or None for a ``tmp_*`` directory),
    ``rows``, ``marks`` (number of granules), ``granule_rows`` (int64 per granule),
    ``index_granularity``, ``columns`` (list of (name, DataType)), ``primary_index`` (Block with one
    row per mark incl. the final one), ``partition_value`` (tuple), ``minmax`` (column ->
    (min, max)), ``bytes_on_disk``, ``checksums`` (file -> (size, hash)).
    """

    schema_patch = None   # set by MergeTreeTable when the table's columns changed since this part was written

    def __init__(self, path: Path):
        self.path = Path(path)
        self.name = self.path.name
        self.info = PartInfo.try_parse(self.name)
        # never reused in this process: keys this part's open mappings and cached blocks
        self.uid = next_part_uid()
        self._closed = False
        self._finalizer = None

    # ------------------------------------------------------------------ open

    @classmethod
    def open(cls, path, *, verify: bool = True) -> "DataPart":
        """Load a part's metadata and primary index (mark files are loaded on first read).

        ``verify=True`` compares every file's size with ``checksums.txt`` (cheap: no reading, what
        ClickHouse does when loading parts); :meth:`verify_checksums` re-hashes all files.
        Raises CorruptedPartError naming the part and the file.
        """
        part = cls(Path(path))
        part._load(verify)
        return part

    def _corrupt(self, file: str | None, reason: str) -> CorruptedPartError:
        return CorruptedPartError(self.name, file, reason)

    def _read_text(self, file: str) -> str:
        try:
            return (self.path / file).read_text()
        except FileNotFoundError:
            raise self._corrupt(file, "file is missing") from None
        except UnicodeDecodeError as e:
            raise self._corrupt(file, f"not UTF-8 text: {e}") from None

    def _load(self, verify: bool) -> None:
        from mergetree.types import parse_type

        if not self.path.is_dir():
            raise self._corrupt(None, f"part directory {self.path} does not exist")
        if not (self.path / CHECKSUMS_FILE).exists():
            raise self._corrupt(CHECKSUMS_FILE, "file is missing: the part was not completely written")
        self.checksums = self._parse_checksums(self._read_text(CHECKSUMS_FILE))
        if verify:
            self.verify_sizes()
        try:
            self.rows = int(self._read_text(COUNT_FILE).strip())
        except ValueError as e:
            raise self._corrupt(COUNT_FILE, f"not a row count: {e}") from None
        try:
            self.columns = [(n, parse_type(t)) for n, t in parse_columns_txt(self._read_text(COLUMNS_FILE))]
        except Exception as e:  # noqa: BLE001 - any parse failure means a corrupt file
            if isinstance(e, CorruptedPartError):
                raise
            raise self._corrupt(COLUMNS_FILE, f"cannot parse: {e}") from None
        try:
            ser = json.loads(self._read_text(SERIALIZATION_FILE))
            self._serialization = ser["columns"]
            self.granule_rows = np.asarray(ser["granule_rows"], np.int64)
            self.index_granularity = int(ser["index_granularity"])
        except (ValueError, KeyError, TypeError) as e:
            raise self._corrupt(SERIALIZATION_FILE, f"cannot parse: {e}") from None
        self.marks = len(self.granule_rows)
        if int(self.granule_rows.sum()) != self.rows:
            raise self._corrupt(SERIALIZATION_FILE, f"granules hold {int(self.granule_rows.sum())} rows "
                                                    f"but count.txt says {self.rows}")
        self._types = dict(self.columns)
        if set(self._serialization) != set(self._types):
            raise self._corrupt(SERIALIZATION_FILE, "columns differ from columns.txt")
        try:
            self.partition_value = tuple(unpack_values((self.path / PARTITION_FILE).read_bytes()))
        except FileNotFoundError:
            raise self._corrupt(PARTITION_FILE, "file is missing") from None
        except Exception as e:  # noqa: BLE001
            raise self._corrupt(PARTITION_FILE, f"cannot parse: {e}") from None
        self.minmax = {}
        for f in self.checksums:
            if f.startswith("minmax_") and f.endswith(".idx"):
                try:
                    lo, hi = unpack_values((self.path / f).read_bytes())
                except Exception as e:  # noqa: BLE001
                    raise self._corrupt(f, f"cannot parse: {e}") from None
                self.minmax[unescape_for_file_name(f[len("minmax_"):-len(".idx")])] = (lo, hi)
        self._mark_cache: dict[str, np.ndarray] = {}
        self.primary_index = self._load_primary_index()

    @staticmethod
    def _parse_checksums_lines(text: str):
        lines = text.split("\n")
        if lines[0] != "checksums format version: mergetree-1":
            raise ValueError(f"unknown header {lines[0]!r}")
        n = int(lines[1].split()[0])
        out = {}
        for line in lines[2:2 + n]:
            name, size, digest = line.split("\t")
            out[name] = (int(size), digest)
        if len(out) != n:
            raise ValueError(f"expected {n} entries, found {len(out)}")
        return out

    def _parse_checksums(self, text: str) -> dict[str, tuple[int, str]]:
        try:
            return self._parse_checksums_lines(text)
        except (ValueError, IndexError) as e:
            raise self._corrupt(CHECKSUMS_FILE, f"cannot parse: {e}") from None

    def _describe(self, file: str) -> str:
        if file.endswith((".bin", ".mrk")):
            return f"column {_column_of_file(file)}: "
        return ""

    def verify_sizes(self) -> None:
        """Every file listed in checksums.txt exists with the listed size (ClickHouse's check on load)."""
        for file, (size, _) in self.checksums.items():
            try:
                actual = (self.path / file).stat().st_size
            except FileNotFoundError:
                raise self._corrupt(file, f"{self._describe(file)}file is missing") from None
            if actual != size:
                raise self._corrupt(file, f"{self._describe(file)}size is {actual} bytes, "
                                          f"checksums.txt says {size}")

    def verify_checksums(self) -> None:
        """Re-hash every file and compare with checksums.txt; raise CorruptedPartError on a mismatch."""
        if not hasattr(self, "checksums"):
            self.checksums = self._parse_checksums(self._read_text(CHECKSUMS_FILE))
        self.verify_sizes()
        for file, (_, digest) in self.checksums.items():
            if file_hash(self.path / file) != digest:
                raise self._corrupt(file, f"{self._describe(file)}checksum mismatch (file content changed)")

    @property
    def bytes_on_disk(self) -> int:
        return sum(size for size, _ in self.checksums.values()) + (self.path / CHECKSUMS_FILE).stat().st_size

    def column_bytes_on_disk(self, name: str) -> int:
        """Compressed bytes of one column (its .bin files)."""
        return sum(self.checksums[s["file"] + ".bin"][0] for s in _node_streams(self._serialization[name]))

    # ------------------------------------------------------------------ marks and index

    def _marks_of(self, file: str) -> np.ndarray:
        m = self._mark_cache.get(file)
        if m is None:
            mf = file + ".mrk"
            try:
                raw = (self.path / mf).read_bytes()
            except FileNotFoundError:
                raise self._corrupt(mf, f"{self._describe(mf)}file is missing") from None
            if len(raw) % MARK_DTYPE.itemsize:
                raise self._corrupt(mf, f"{self._describe(mf)}size {len(raw)} is not a multiple of "
                                        f"{MARK_DTYPE.itemsize}")
            m = np.frombuffer(raw, MARK_DTYPE)
            self._mark_cache[file] = m
        return m

    def _load_primary_index(self):
        from mergetree.column import Block
        from mergetree.types import parse_type

        try:
            raw = msgpack.unpackb((self.path / PRIMARY_INDEX_FILE).read_bytes(), raw=False)
            cols = {}
            for c in raw["columns"]:
                streams = c["streams"]
                col = _build_column(c["node"], lambda meta, whole=False: np.frombuffer(streams[meta["file"]], np.uint8),
                                    parse_type)
                cols[c["name"]] = col
            index = Block(cols, num_rows=raw["rows"] if not cols else None)
        except FileNotFoundError:
            raise self._corrupt(PRIMARY_INDEX_FILE, "file is missing") from None
        except Exception as e:  # noqa: BLE001
            raise self._corrupt(PRIMARY_INDEX_FILE, f"cannot parse: {e}") from None
        expected = self.marks + 1 if self.rows else 0
        if cols and index.num_rows != expected:
            raise self._corrupt(PRIMARY_INDEX_FILE, f"{index.num_rows} entries, expected {expected}")
        return index

    # ------------------------------------------------------------------ reading

    def _normalize_ranges(self, mark_ranges) -> list[tuple[int, int]]:
        if mark_ranges is None:
            return [(0, self.marks)] if self.marks else []
        if len(mark_ranges) == 1:                   # the usual small read: one range, checked as is
            (a, b), = mark_ranges
            if a.__class__ is int and b.__class__ is int and 0 <= a < b <= self.marks:
                return [(a, b)]
        out: list[tuple[int, int]] = []
        for a, b in sorted((int(a), int(b)) for a, b in mark_ranges):
            if not 0 <= a <= b <= self.marks:
                raise BadArgumentsError(f"mark range [{a}, {b}) out of bounds for part {self.name} "
                                        f"with {self.marks} marks")
            if a == b:
                continue
            if out and a <= out[-1][1]:
                out[-1] = (out[-1][0], max(out[-1][1], b))
            else:
                out.append((a, b))
        return out

    def close(self) -> None:
        """Unmap the part's files and forget its cached blocks (the table calls this when the part
        is removed, quarantined, or the table closes). Reads after this still work, mapping
        each file for one read only."""
        self._closed = True
        _forget_part(self.uid)

    def _mapping(self, bin_name: str):
        """(memoryview, uint8 array, owned) of a .bin file: the part's kept mapping, or a mapping
        for this read only (``owned``: the caller unmaps it) once the part is closed."""
        if not self._closed:
            if self._finalizer is None:   # a part dropped without close() still unmaps its files
                self._finalizer = weakref.finalize(self, _forget_part, self.uid)
            view, array = mapped_files.get(self.uid, self.path, bin_name)
            if self._closed:          # closed meanwhile: do not leave the new mapping behind
                mapped_files.close_part(self.uid)
            return view, array, False
        mm, mv = _map_file(self.path / bin_name)
        return mv, np.frombuffer(mv, np.uint8), (mm, mv)

    def _mark_arrays(self, file: str):
        """(block offsets, offsets in block) of a stream's marks as int64 arrays (cached)."""
        key = (file, "split")
        m = self._mark_cache.get(key)
        if m is None:
            marks = self._marks_of(file)
            m = (marks["block_offset"].astype(np.int64), marks["offset_in_block"].astype(np.int64))
            self._mark_cache[key] = m
        return m

    def _read_stream(self, meta: dict, ranges, stats: ReadStats, column: str, cache=None,
                     copy: bool = True) -> np.ndarray:
        """Bytes of one substream for the given mark ranges (concatenated).

        ``cache``: an UncompressedCache to take decoded blocks from and put them into (small
        reads); the bytes returned are then a copy, or with ``copy=False`` a read-only view of a
        cached block."""
        file = meta["file"]
        if cache is not None and len(ranges) == 1:
            got = self._read_cached_range(file, ranges[0], cache)
            if got is not None:
                return got.copy() if copy else got
        offs, ins = self._mark_arrays(file)
        bin_name = file + ".bin"
        if len(offs) < 2:
            raise self._corrupt(file + ".mrk", f"column {column}: no marks")
        pieces = []
        try:
            mv, arr, owned = self._mapping(bin_name)
        except FileNotFoundError:
            raise self._corrupt(bin_name, f"column {column}: file is missing") from None
        size = len(mv)
        try:
            for group in _group_ranges(ranges, offs, ins, mv, size):
                ca = int(offs[group[0][0]])
                end = max(_region_end(b, offs, ins, mv, size) for _, b in group)
                if end < ca:
                    raise BlockCorruptedError(f"marks {group[0][0]}..{group[-1][1]} go backwards ({ca} > {end})")
                if end > size:
                    raise BlockCorruptedError(f"file ends at {size}, marks need {end} bytes")
                if cache is not None:
                    decoded, starts = self._decode_cached(cache, bin_name, mv, arr, ca, end, stats)
                else:
                    decoded = decode_blocks(mv, ca, end, array=arr)
                    starts = _decoded_block_starts(mv, ca, end)   # block offset -> position in decoded
                    starts[end] = len(decoded)
                    stats.bytes_read += end - ca
                    stats.bytes_decompressed += len(decoded)
                    stats.blocks += len(starts) - 1
                for a, b in group:
                    pa = _mark_position(a, offs, ins, starts)
                    pb = _mark_position(b, offs, ins, starts)
                    if not 0 <= pa <= pb <= len(decoded):
                        raise BlockCorruptedError(f"marks {a}..{b} point to bytes {pa}..{pb} outside the "
                                                  f"{len(decoded)} decoded bytes")
                    pieces.append(decoded[pa:pb])
        except BlockCorruptedError as e:
            raise self._corrupt(bin_name, f"column {column}: {e}") from None
        finally:
            del arr
            if owned:
                _unmap(*owned)
        if len(pieces) == 1:
            return pieces[0].copy() if cache is not None and copy else pieces[0]
        return np.concatenate(pieces) if pieces else np.zeros(0, np.uint8)

    def _mark_lists(self, file: str):
        """(block offsets, offsets in block) of a stream's marks as Python lists (cached: a small
        read indexes a few of them, faster in lists than in numpy arrays)."""
        key = (file, "lists")
        m = self._mark_cache.get(key)
        if m is None:
            offs, ins = self._mark_arrays(file)
            m = self._mark_cache[key] = (offs.tolist(), ins.tolist())
        return m

    def _read_cached_range(self, file: str, rng, cache):
        """The bytes of granules ``rng`` of a stream when every compressed block they need is in
        the uncompressed cache (a read-only view when they are one block), else None: then the
        general path reads (and checks) the file. Cached blocks were checked when decoded."""
        offs, ins = self._mark_lists(file)
        a, b = rng
        if not 0 <= a < b < len(offs):
            return None
        ca, cb, ib = offs[a], offs[b], ins[b]
        uid, bin_name = self.uid, file + ".bin"
        datas = []
        at = 0
        pos = ca
        pb = -1
        while True:
            if pos == cb:
                pb = at + ib
                if not ib:
                    break
            hit = cache.get((uid, bin_name, pos))
            if hit is None:
                return None
            data, csize = hit
            datas.append(data)
            at += len(data)
            if pos == cb:
                break
            pos += BLOCK_HEADER_SIZE + csize
            if pos > cb:
                return None
        pa = ins[a]
        if not 0 <= pa <= pb <= at:
            return None
        if len(datas) == 1:
            return datas[0][pa:pb]
        if not datas:                 # no bytes in these granules (e.g. only empty strings)
            return np.zeros(0, np.uint8)
        return np.concatenate(datas)[pa:pb]

    def _decode_cached(self, cache, bin_name: str, mv, arr, start: int, end: int, stats: ReadStats):
        """Decoded blocks of ``[start, end)`` through the uncompressed cache: cached blocks are
        walked by their stored compressed sizes (no header parsing), the rest from the first
        missing block on is decoded in one call and its blocks are cached."""
        uid = self.uid
        datas = []
        starts = {}
        at = 0
        pos = start
        while pos < end:
            hit = cache.get((uid, bin_name, pos))
            if hit is None:
                break
            data, csize = hit
            starts[pos] = at
            datas.append(data)
            at += len(data)
            pos += BLOCK_HEADER_SIZE + csize
        if pos < end:
            fresh = decode_blocks(mv, pos, end, array=arr)
            stats.bytes_read += end - pos
            stats.bytes_decompressed += len(fresh)
            p, f_at = pos, 0
            while p < end:
                csize = int.from_bytes(mv[p + 10:p + 14], "little")
                dsize = int.from_bytes(mv[p + 14:p + 18], "little")
                block = fresh[f_at:f_at + dsize]
                cache.put((uid, bin_name, p), block, csize)
                starts[p] = at + f_at
                stats.blocks += 1
                f_at += dsize
                p += BLOCK_HEADER_SIZE + csize
            fresh.flags.writeable = False     # its blocks are cached: no view of it may write
            datas.append(fresh)
            at += len(fresh)
        starts[end] = at
        if len(datas) == 1:
            return datas[0], starts
        return (np.concatenate(datas) if datas else np.zeros(0, np.uint8)), starts

    def read(self, columns: list[str] | None = None, mark_ranges=None, stats: ReadStats | None = None,
             cache=None, copy: bool = True, stored: bool = False, mask: np.ndarray | None = None,
             rows: tuple[int, int] | None = None):
        """Read ``columns`` (default: all) for the granules in ``mark_ranges`` (list of [a, b)).

        Only the compressed blocks the ranges need are read and decoded. Returns a Block; adds
        rows/marks/bytes to ``stats`` when given (also kept as ``self.last_read_stats``).
        ``cache``: an :class:`~mergetree.storage.read_cache.UncompressedCache` for decoded blocks
        (the scan passes the process's cache for small reads; blocks decoded from it are not counted
        in ``stats.blocks`` / ``bytes_decompressed``). ``copy=False`` (with a cache): the columns may
        be read-only views of cached blocks, for a caller that only filters them (filtering copies).
        A part written before an ALTER of the table's columns is read through its ``schema_patch``
        (H6 hook, storage/alter.py: added columns from their DEFAULT, renames, widened types);
        ``stored=True`` reads the columns as this part stores them.
        ``mask`` (bool, one per row of the ranges): only those rows are returned, and dictionary
        strings are decoded only for them (a PREWHERE's few matches in a granule of 8192 rows).
        ``rows=(lo, hi)``: only rows ``lo..hi-1`` of the ranges (as concatenated) are returned, read
        from the granules that hold them (a point lookup's run of rows, found by `key_run`); ``mask``
        is then one per row of that window. The columns returned are fresh arrays unless
        ``copy=False`` and neither ``rows`` nor ``mask`` is given.
        """
        if rows is not None:
            lo, hi = int(rows[0]), int(rows[1])
            ranges = self._normalize_ranges(mark_ranges)
            starts = self.granule_starts()
            total = _rows_in(ranges, starts)
            if not 0 <= lo <= hi <= total:
                raise BadArgumentsError(f"rows [{lo}, {hi}) out of bounds for {total} rows of part {self.name}")
            if mask is not None and len(mask) != hi - lo:
                raise BadArgumentsError(f"mask of {len(mask)} rows for a window of {hi - lo} rows of part {self.name}")
            ranges, wlo = _narrow(ranges, starts, lo, hi) if hi > lo else ([], 0)
            window = (wlo, wlo + hi - lo)
        else:
            ranges = mark_ranges
            window = None
        if self.schema_patch is not None and not stored:
            block = self.schema_patch.read(self, columns, ranges, stats)
            if window is not None:
                block = block.slice(*window) if ranges else block
                return block.filter(mask) if mask is not None else block.take(np.arange(block.num_rows))
            return block if mask is None else block.filter(mask)
        from mergetree.column import Block
        from mergetree.types import parse_type

        names = [n for n, _ in self.columns] if columns is None else list(columns)
        types = self._types
        for n in names:
            if n not in types:
                raise UnknownColumnError(f"Part {self.name} has no column '{n}' "
                                         f"(columns: {', '.join(x for x, _ in self.columns)})")
        if window is None:
            ranges = self._normalize_ranges(ranges)
        starts = self.granule_starts()
        nrows = _rows_in(ranges, starts)
        if mask is not None and window is None and len(mask) != nrows:
            raise BadArgumentsError(f"mask of {len(mask)} rows for {nrows} rows of part {self.name}")
        local = ReadStats()
        out = {}
        for n in names:
            def fetch(meta, whole=False, _n=n):
                return self._read_stream(meta, [(0, 1)] if whole else ranges, local, _n, cache, copy)
            if ranges:
                try:
                    if window is not None:
                        col, read_rows = _build_window(self._serialization[n], fetch, parse_type, window, mask)
                    elif mask is None:
                        col = _build_column(self._serialization[n], fetch, parse_type)
                        read_rows = len(col)
                    else:
                        col, read_rows = _build_masked(self._serialization[n], fetch, parse_type, mask)
                except _BadData as e:
                    raise self._corrupt(e.file, f"column {n}: {e.reason}") from None
                except (KeyError, TypeError, ValueError) as e:   # malformed serialization node
                    raise self._corrupt(SERIALIZATION_FILE, f"column {n}: bad serialization entry: {e!r}") from None
                if read_rows != nrows:
                    raise self._corrupt(None, f"column {n}: read {read_rows} rows, marks say {nrows}")
            else:
                from mergetree.column import empty_column
                col = empty_column(self._types[n])
            out[n] = col
        local.rows = nrows
        local.marks = ranges[0][1] - ranges[0][0] if len(ranges) == 1 else sum(b - a for a, b in ranges)
        local.parts = 1
        self.last_read_stats = local
        if stats is not None:
            stats.add(local)
        if window is not None and mask is None:
            return Block.trusted(out, window[1] - window[0]) if ranges else Block(out, num_rows=0)
        return Block(out, num_rows=nrows if mask is None else int(np.count_nonzero(mask)))

    def fixed_width(self, column: str) -> bool:
        """Whether the part stores ``column`` as one fixed-width stream (filtering its rows is one
        numpy index; a String is rebuilt from its lengths)."""
        node = self._serialization.get(column)
        return node is not None and node.get("kind") == "fixed" and self.schema_patch is None

    def granule_starts(self) -> list[int]:
        """Row number of the first row of every granule, and the part's row count last (a list:
        the part is immutable; computed once)."""
        s = self.__dict__.get("_granule_starts")
        if s is None:
            s = self._granule_starts = [0] + np.cumsum(self.granule_rows, dtype=np.int64).tolist()
        return s

    def key_run(self, column: str, mark_ranges, value: bytes, cache=None):
        """``(lo, hi, rows, nbytes)``: rows ``lo..hi-1`` of the granules in ``mark_ranges`` (as
        concatenated, ``rows`` in all) are those whose String column ``column`` equals ``value``,
        found by binary search on the column as stored (sizes + bytes, no offsets built: the
        caller knows the rows are sorted by it, e.g. the first sorting-key column). ``nbytes``:
        the column's in-memory size over the ranges. None when the column is not stored as a plain
        String (dictionary-encoded, or the part is read through a schema patch): read it instead."""
        import mergetree.types as T
        from mergetree.kernels.keyrange import sizes_equal_range

        node = self._serialization.get(column)
        if self.schema_patch is not None or node is None or node.get("kind") != "string" or node.get("whole") \
                or self._types.get(column) != T.String:
            return None
        ranges = self._normalize_ranges(mark_ranges)
        starts = self.granule_starts()
        nrows = _rows_in(ranges, starts)
        if not ranges:
            return 0, 0, 0, 0
        local = ReadStats()
        try:
            sizes = _typed(node["sizes"], self._read_stream(node["sizes"], ranges, local, column, cache, False))
            data = self._read_stream(node["data"], ranges, local, column, cache, False)
        except _BadData as e:
            raise self._corrupt(e.file, f"column {column}: {e.reason}") from None
        if len(sizes) != nrows:
            raise self._corrupt(None, f"column {column}: read {len(sizes)} rows, marks say {nrows}")
        lo, hi, _, _, total = sizes_equal_range(sizes, data, value)
        if total != len(data):
            raise self._corrupt(node["data"]["file"] + ".bin", f"column {column}: string lengths add up to "
                                                               f"{total} bytes, data has {len(data)}")
        local.rows = nrows
        local.marks = sum(b - a for a, b in ranges)
        local.parts = 1
        self.last_read_stats = local
        return lo, hi, nrows, 8 * (nrows + 1) + len(data)

    def __repr__(self) -> str:
        return f"DataPart({self.name!r}, rows={getattr(self, 'rows', '?')}, marks={getattr(self, 'marks', '?')})"


def _forget_part(uid: int) -> None:
    """Unmap a part's files and drop its cached blocks (its close(), or its garbage collection)."""
    mapped_files.close_part(uid)
    uncompressed_cache.drop_part(uid)


def _region_end(m: int, offs, ins, mv, size: int) -> int:
    """End (in the .bin) of the compressed bytes needed to read up to mark ``m``."""
    cb, ib = int(offs[m]), int(ins[m])
    if not ib:
        return cb
    if cb + BLOCK_HEADER_SIZE > size:   # mark m points inside a block: that block is needed too
        raise BlockCorruptedError(f"truncated block header at offset {cb} (file has {size} bytes)")
    return cb + BLOCK_HEADER_SIZE + int.from_bytes(mv[cb + 10:cb + 14], "little")


def _group_ranges(ranges, offs, ins, mv, size: int):
    """Split sorted mark ranges into groups whose compressed regions share a block.

    Each group is decoded once, so two ranges in the same compressed block (small granules
    share 64 KiB blocks) do not decompress it twice.
    """
    group: list[tuple[int, int]] = []
    group_end = -1
    for a, b in ranges:
        if group and int(offs[a]) >= group_end:
            yield group
            group = []
        group.append((a, b))
        group_end = max(group_end, _region_end(b, offs, ins, mv, size))
    if group:
        yield group


def _decoded_block_starts(buf, start: int, end: int) -> dict[int, int]:
    """Offset of every block in ``buf[start:end]`` -> where its bytes start once decoded."""
    out, pos, at = {}, start, 0
    while pos < end:
        out[pos] = at
        at += int.from_bytes(buf[pos + 14:pos + 18], "little")
        pos += BLOCK_HEADER_SIZE + int.from_bytes(buf[pos + 10:pos + 14], "little")
    return out


def _mark_position(m: int, offs, ins, starts: dict[int, int]) -> int:
    pos = starts.get(int(offs[m]))
    if pos is None:
        raise BlockCorruptedError(f"mark {m} points to offset {int(offs[m])}, which is not a block start")
    return pos + int(ins[m])


def _map_file(path: Path):
    """Read-only memory map of a file (no copy of the compressed bytes) and a memoryview of it."""
    with open(path, "rb") as f:
        if os.fstat(f.fileno()).st_size == 0:
            return None, memoryview(b"")
        mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    return mm, memoryview(mm)


def _unmap(mm, mv) -> None:
    try:
        mv.release()
        if mm is not None:
            mm.close()
    except BufferError:   # a view is still referenced (e.g. by a traceback): the GC unmaps it later
        pass


class _BadData(Exception):
    def __init__(self, file: str, reason: str):
        self.file, self.reason = file, reason


def _node_streams(node: dict):
    """Every stream meta dict of a serialization node (depth first)."""
    for key in ("stream", "sizes", "data", "nulls", "codes"):
        if key in node:
            yield node[key]
    for key in ("values", "dict"):
        if key in node:
            yield from _node_streams(node[key])
    for child in node.get("states", ()):
        yield from _node_streams(child)


def _typed(meta: dict, raw: np.ndarray) -> np.ndarray:
    layout = meta.get("\0layout")      # (dtype, shape, row width), derived once per stream
    if layout is None:
        dtype = np.dtype(meta["dtype"])
        shape = tuple(meta["shape"])
        layout = meta["\0layout"] = (dtype, shape, dtype.itemsize * int(np.prod(shape, dtype=np.int64)))
    dtype, shape, width = layout
    if width and raw.nbytes % width:
        raise _BadData(meta["file"] + ".bin", f"{raw.nbytes} bytes is not a multiple of the row width {width}")
    arr = raw.view(dtype) if raw.nbytes else np.zeros(0, dtype)
    return arr.reshape((-1,) + shape) if shape else arr


def _offsets_from_sizes(sizes: np.ndarray) -> np.ndarray:
    offsets = np.empty(len(sizes) + 1, np.int64)
    offsets[0] = 0
    np.cumsum(sizes, out=offsets[1:])
    return offsets


def _rows_in(ranges: list, starts: list) -> int:
    """Rows of the granule ranges ``ranges``; ``starts``: `DataPart.granule_starts`."""
    if len(ranges) == 1:
        (a, b), = ranges
        return starts[b] - starts[a]
    return sum(starts[b] - starts[a] for a, b in ranges)


def _narrow(ranges: list, starts: list, lo: int, hi: int):
    """(the granules of ``ranges`` that hold rows ``lo..hi-1`` of the ranges' concatenation, where
    row ``lo`` is in those granules' concatenation); ``starts``: `DataPart.granule_starts`."""
    from bisect import bisect_left, bisect_right

    out = []
    pos = 0
    first = None
    for a, b in ranges:
        r0 = starts[a]
        n = starts[b] - r0
        if pos < hi and pos + n > lo:
            x = r0 + max(lo - pos, 0)          # part rows x..y-1 of the window lie in this range
            y = r0 + min(hi - pos, n)
            ga = bisect_right(starts, x, a, b + 1) - 1
            gb = bisect_left(starts, y, a, b + 1)
            if first is None:
                first = pos + starts[ga] - r0  # window rows before the first granule kept
            out.append((ga, gb))
        pos += n
    return out, lo - (first or 0)


def _build_window(node: dict, fetch, parse_type, window: tuple, mask):
    """(rows ``window`` of a column, then those of ``mask`` if given, as fresh arrays; the column's
    row count before the window): fixed-width values and dictionary codes are cut before anything
    is built from them."""
    import mergetree.column as mc

    lo, hi = window
    kind = node["kind"]
    if kind == "fixed" and not node.get("whole"):
        meta = node["stream"]
        values = _typed(meta, fetch(meta))
        if len(values) < hi:             # the caller reports the row count
            return mc.FixedColumn(parse_type(node["type"]), values), len(values)
        part = values[lo:hi]
        return mc.FixedColumn(parse_type(node["type"]), part[mask] if mask is not None else part.copy()), len(values)
    if kind == "dict_string" and not node.get("whole"):
        dictionary = _dictionary(node, fetch, parse_type)
        codes = _typed(node["codes"], fetch(node["codes"]))
        n = len(codes)
        if n < hi:
            return mc.StringColumn(parse_type(node["type"]), np.zeros(1, np.int64), np.zeros(0, np.uint8)), n
        part = codes[lo:hi]
        if mask is not None:
            part = part[mask]
        try:                     # checks every code against the dictionary
            offsets, data = _prepared_dictionary(node, dictionary).decode(part)
        except BlockCorruptedError as e:
            raise _BadData(node["codes"]["file"] + ".bin", str(e)) from None
        return mc.StringColumn(parse_type(node["type"]), offsets, data), n
    col = _build_column(node, fetch, parse_type)
    n = len(col)
    if n < hi:
        return col, n
    idx = np.arange(lo, hi, dtype=np.int64)
    return col.take(idx[mask] if mask is not None else idx), n


def _build_masked(node: dict, fetch, parse_type, mask: np.ndarray):
    """(the rows of ``mask`` of a column, the column's row count before masking): fixed-width
    values and dictionary codes are masked before anything is built from them."""
    from mergetree import column as mc

    kind = node["kind"]
    if kind == "fixed" and not node.get("whole"):
        meta = node["stream"]
        values = _typed(meta, fetch(meta))
        if len(values) != len(mask):
            return mc.FixedColumn(parse_type(node["type"]), values), len(values)
        return mc.FixedColumn(parse_type(node["type"]), values[mask]), len(values)
    if kind in ("dict_string", "low_cardinality") and not node.get("whole"):
        t = parse_type(node["type"])
        dictionary = _dictionary(node, fetch, parse_type) if kind == "dict_string" else \
            _build_column(node["dict"], fetch, parse_type, True)
        codes = _typed(node["codes"], fetch(node["codes"]))
        n = len(codes)
        if n == len(mask):
            codes = codes[mask]
        if len(codes) and int(codes.max()) >= len(dictionary):
            raise _BadData(node["codes"]["file"] + ".bin",
                           f"code {int(codes.max())} out of range of a {len(dictionary)}-entry dictionary")
        if kind == "low_cardinality":
            return mc.LowCardinalityColumn(t, dictionary, codes), n
        try:
            offsets, data = _prepared_dictionary(node, dictionary).decode(codes)
        except BlockCorruptedError as e:
            raise _BadData(node["codes"]["file"] + ".bin", str(e)) from None
        return mc.StringColumn(t, offsets, data), n
    col = _build_column(node, fetch, parse_type)
    return (col.filter(mask) if len(col) == len(mask) else col), len(col)


def _dictionary(node: dict, fetch, parse_type):
    """The dictionary of a dict_string column (a String column stored whole), built once per part:
    the serialization node belongs to this part and the part's files never change, so the
    dictionary is remembered on the node (as ``\0layout`` on stream metas) instead of being fetched
    and rebuilt (two streams, a cumsum) by every read. Kept as its own copy: never a view of a
    mapped file or of a cached block. Only its `PreparedDictionary` reads it (fresh output)."""
    from mergetree import column as mc

    d = node.get("\0dict")
    if d is None:
        built = _build_column(node["dict"], fetch, parse_type, True)
        if not isinstance(built, mc.StringColumn):
            return built
        d = mc.StringColumn(built.type, built.offsets.copy(), built.data.copy())
        node["\0dict"] = d
    return d


def _prepared_dictionary(node: dict, dictionary):
    """The `PreparedDictionary` of a dict_string column's dictionary (kept on the node next to the
    dictionary, as `_dictionary` does: the part's files never change)."""
    prep = node.get("\0prepared")
    if prep is None or prep.offsets is not dictionary.offsets:
        prep = node["\0prepared"] = PreparedDictionary(dictionary.offsets, dictionary.data)
    return prep


def _build_column(node: dict, fetch, parse_type, whole: bool = False):
    """Rebuild a column from its serialization node; ``fetch(meta, whole)`` returns stream bytes."""
    from mergetree import column as mc

    kind = node["kind"]
    t = parse_type(node["type"])
    whole = whole or bool(node.get("whole"))   # dictionaries are stored whole, incl. their children
    if kind == "fixed":
        meta = node["stream"]
        return mc.FixedColumn(t, _typed(meta, fetch(meta, whole)))
    if kind == "string":
        sizes = _typed(node["sizes"], fetch(node["sizes"], whole))
        data = fetch(node["data"], whole)
        offsets = _offsets_from_sizes(sizes)
        if int(offsets[-1]) != len(data):
            raise _BadData(node["data"]["file"] + ".bin",
                           f"string lengths add up to {int(offsets[-1])} bytes, data has {len(data)}")
        return mc.StringColumn(t, offsets, data)
    if kind == "dict_string":
        dictionary = _dictionary(node, fetch, parse_type)
        codes = _typed(node["codes"], fetch(node["codes"], whole))
        try:
            offsets, data = _prepared_dictionary(node, dictionary).decode(codes)
        except BlockCorruptedError as e:
            raise _BadData(node["codes"]["file"] + ".bin", str(e)) from None
        return mc.StringColumn(t, offsets, data)
    if kind == "nullable":
        nulls = _typed(node["nulls"], fetch(node["nulls"], whole)).view(np.bool_)
        values = _build_column(node["values"], fetch, parse_type, whole)
        if len(values) != len(nulls):
            raise _BadData(node["nulls"]["file"] + ".bin", f"{len(nulls)} null flags for {len(values)} values")
        return mc.NullableColumn(t, values, nulls)
    if kind == "array":
        sizes = _typed(node["sizes"], fetch(node["sizes"], whole))
        values = _build_column(node["values"], fetch, parse_type, whole)
        offsets = _offsets_from_sizes(sizes)
        if int(offsets[-1]) != len(values):
            raise _BadData(node["sizes"]["file"] + ".bin",
                           f"array sizes add up to {int(offsets[-1])} elements, found {len(values)}")
        return mc.ArrayColumn(t, offsets, values)
    if kind == "aggregate_state":
        from mergetree.functions.aggregate.states import STATE_VERSION, AggregateStateColumn, state_types

        expected = [str(x) for x in state_types(t)]
        if node.get("state_version") != STATE_VERSION or node.get("state_types") != expected:
            raise _BadData(SERIALIZATION_FILE, f"aggregate state layout {node.get('state_version')} "
                           f"{node.get('state_types')} of {t} is not this version's ({STATE_VERSION} {expected})")
        sizes = _typed(node["sizes"], fetch(node["sizes"], whole))
        states = [_build_column(child, fetch, parse_type, whole) for child in node["states"]]
        offsets = _offsets_from_sizes(sizes)
        if any(int(offsets[-1]) != len(st) for st in states):
            raise _BadData(node["sizes"]["file"] + ".bin", f"state sizes add up to {int(offsets[-1])} rows, "
                           f"found {[len(st) for st in states]}")
        return AggregateStateColumn(t, offsets, states)
    if kind == "tuple":
        elements = [_build_column(child, fetch, parse_type, whole) for child in node["elements"]]
        if len({len(e) for e in elements}) > 1:
            raise _BadData(SERIALIZATION_FILE, f"tuple elements of {t} have different lengths")
        return mc.TupleColumn(t, elements)
    if kind == "map":
        sizes = _typed(node["sizes"], fetch(node["sizes"], whole))
        keys = _build_column(node["keys"], fetch, parse_type, whole)
        values = _build_column(node["values"], fetch, parse_type, whole)
        offsets = _offsets_from_sizes(sizes)
        if int(offsets[-1]) != len(keys) or len(keys) != len(values):
            raise _BadData(node["sizes"]["file"] + ".bin",
                           f"map sizes add up to {int(offsets[-1])} entries, found {len(keys)} keys, {len(values)} values")
        return mc.MapColumn(t, offsets, keys, values)
    if kind == "low_cardinality":
        dictionary = _build_column(node["dict"], fetch, parse_type, True)
        codes = _typed(node["codes"], fetch(node["codes"], whole))
        if len(codes) and int(codes.max()) >= len(dictionary):
            raise _BadData(node["codes"]["file"] + ".bin",
                           f"code {int(codes.max())} out of range of a {len(dictionary)}-entry dictionary")
        return mc.LowCardinalityColumn(t, dictionary, codes)
    raise _BadData(SERIALIZATION_FILE, f"unknown serialization kind {kind!r}")
