"""``mergetree serve --workers N|auto``: how many query worker processes (mergetree/replica.py)."""

from __future__ import annotations

import argparse
import os

import pytest

from mergetree.server import cli_commands


@pytest.mark.parametrize("cores, expected", [(1, 0), (2, 3), (3, 4), (4, 4), (16, cli_commands.AUTO_WORKERS_MAX)])
def test_auto_is_one_worker_more_than_the_cores_capped_and_none_on_one_core(monkeypatch, cores, expected):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(cores)), raising=False)
    assert cli_commands._workers_arg("auto") == expected
    assert cli_commands._workers_arg(" AUTO ") == expected


def test_numbers_pass_through_and_other_text_is_refused():
    assert cli_commands._workers_arg("0") == 0
    assert cli_commands._workers_arg("3") == 3
    with pytest.raises(argparse.ArgumentTypeError, match="'many'"):
        cli_commands._workers_arg("many")


def test_serve_parser_takes_auto(monkeypatch):
    from mergetree.cli import build_parser

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    assert build_parser().parse_args(["serve", "--workers", "auto"]).workers == 3
    assert build_parser().parse_args(["serve"]).workers == 0          # in-process unless asked
