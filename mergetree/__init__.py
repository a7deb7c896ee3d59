"""mergetree: a Python re-implementation of ClickHouse's MergeTree (and Tinybird on top).

``mergetree.connect(path)`` opens a :class:`~mergetree.database.Database` (the embedded API);
start reading at ``mergetree/storage/table.py`` for the life of an inserted row.
Importing this package does not import numba (kernels are imported lazily).
"""

from mergetree.database import Database, connect

__all__ = ["Database", "connect", "__version__"]
__version__ = "0.1.0"
