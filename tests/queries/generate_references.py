"""Regenerate every tests/queries/*.reference with chDB (the reference engine).

    python tests/queries/generate_references.py [NNNNN_topic.sql ...]

Each file runs in a fresh chDB session; statement outputs (TabSeparated) are concatenated.
A statement with a ``-- { serverError NAME }`` hint must fail in chDB with that error name.
The chDB / ClickHouse version used is written to tests/queries/CHDB_VERSION.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from golden import HERE, query_files, statements  # noqa: E402


def generate(path: Path) -> bytes:
    from chdb import session

    out = []
    with tempfile.TemporaryDirectory() as tmp:
        sess = session.Session(tmp)
        try:
            for sql, error in statements(path):
                try:
                    res = sess.query(sql, "TabSeparated")
                except Exception as e:
                    if error and f"({error})" in str(e):
                        continue
                    raise RuntimeError(f"{path.name}: chDB failed on {sql!r}: {e}") from None
                if error:
                    raise RuntimeError(f"{path.name}: {sql!r} should fail with {error} but succeeded")
                out.append(res.bytes())
        finally:
            sess.close()
    return b"".join(out)


def main(argv: list[str]) -> None:
    import chdb

    version = chdb.query("SELECT version()", "TabSeparated").bytes().decode().strip()
    (HERE / "CHDB_VERSION").write_text(f"chdb {chdb.__version__}, ClickHouse {version}\n")
    files = [HERE / a for a in argv] if argv else query_files()
    for f in files:
        f.with_suffix(".reference").write_bytes(generate(f))
        print(f"{f.name}: {len(statements(f))} statements")


if __name__ == "__main__":
    main(sys.argv[1:])
