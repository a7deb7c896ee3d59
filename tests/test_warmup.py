"""`mergetree warmup` compiles the kernels (or loads them from numba's cache) by running a
representative workload; `mergetree --help` stays fast because nothing imports numba."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest


def test_help_does_not_import_numba():
    code = ("import sys, contextlib, io\n"
            "from mergetree.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
            "    main(['--help']) if False else None\n"
            "    try:\n"
            "        main(['--help'])\n"
            "    except SystemExit:\n"
            "        pass\n"
            "assert 'warmup' in out.getvalue(), out.getvalue()\n"
            "heavy = [m for m in ('numba', 'lark', 'pyarrow', 'pandas') if m in sys.modules]\n"
            "assert not heavy, heavy\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_warmup_help_lists_options():
    out = subprocess.run([sys.executable, "-m", "mergetree.cli", "warmup", "--help"], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0 and "--rows" in out.stdout


@pytest.mark.slow
def test_warmup_compiles_kernels():
    from mergetree.warmup import warm_up

    out = io.StringIO()
    report = warm_up(out, rows=500, sweep_budget=30)
    text = out.getvalue()
    assert "warmup:" in text and "kernels" in text
    assert report["modules"]["groupby"] and all(sigs for _, sigs in report["modules"]["groupby"])
    compiled = [k for kernels in report["modules"].values() for k, sigs in kernels if sigs]
    assert len(compiled) >= 20
    assert len(report["failed"]) < 40
    assert report["swept"][0] > 50           # scalar functions called by the sweep
