"""The MergeTree storage engine: parts on disk, tables of parts, merges.

Modules (read in this order to learn how MergeTree stores data):

1. ``part_info``  -- part names ``{partition}_{min}_{max}_{level}[_{mutation}]`` and the covers relation.
2. ``codecs``     -- compressed blocks (LZ4 / ZSTD / NONE, with a checksum) and light encodings (Delta,
   dictionary).
3. ``part_writer`` -- :func:`write_part`: one sorted block -> a part directory (the on-disk format is
   documented there as a numbered list).
4. ``part``       -- :class:`DataPart`: open, verify and read a part (granule ranges -> columns).

Importing this package does not import numba; kernels are imported lazily.
"""
