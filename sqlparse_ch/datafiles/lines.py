"""Tinybird's line rules for datafiles (TINYBIRD.md B.1): text -> a list of `Command`s.

1. Each line is split shell-style (Python's `shlex` in non-POSIX mode with whitespace
   splitting, as Tinybird does): quotes are honoured, `#` starts a comment, a blank or
   comment-only line gives no tokens. A line with an unbalanced quote is taken whole.
2. The first token is the keyword, matched case-insensitively; the rest are arguments,
   unquoted when a whole argument is quoted (`ENGINE "MergeTree"` = `ENGINE MergeTree`).
3. `KEYWORD >` starts a block: the following raw lines belong to it until a line whose
   first token is a known keyword and which starts neither with a space or tab nor with
   `from` (an unindented `FROM` line stays in the SQL). Inside a block, blank lines and
   `#`-only lines are dropped; `--` SQL comments are kept.
4. Block text is dedented and right-stripped, except SQL whose first non-space
   character is `%`, which is only stripped (template indentation is kept).

Every command and every block line keeps its 1-based line number for error messages.
"""
from __future__ import annotations

import shlex
import textwrap
from dataclasses import dataclass


class DatafileError(ValueError):
    """A datafile problem: names the file, the line (and column when known) and what was
    expected. `str(e)` is `file:line[:column]: message`."""

    def __init__(self, message: str, *, filename: str = "<string>", line: int | None = None,
                 column: int | None = None):
        self.message = message
        self.filename = filename
        self.line = line
        self.column = column
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.filename
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class Command:
    keyword: str                    # upper-case
    args: tuple[str, ...]           # unquoted single-line arguments (empty for blocks)
    line: int                       # line of the keyword
    block: str | None = None        # raw block text (lines joined), None for single-line
    block_lines: tuple[int, ...] = ()   # original line number of each kept block line

    @property
    def value(self) -> str:
        """Single-line value: the arguments joined by one space (Tinybird's rule)."""
        return " ".join(self.args).strip()


def split_line(line: str) -> list[str]:
    lexer = shlex.shlex(line)
    lexer.whitespace_split = True
    try:
        return list(lexer)
    except ValueError:              # unbalanced quote: the line is one token
        lexer = shlex.shlex(shlex.quote(line))
        lexer.whitespace_split = True
        return list(lexer)


def unquote(x: str) -> str:
    if len(x) >= 2 and x[0] in "\"'" and x[-1] in "\"'":
        return x[1:-1]
    return x


def split_commands(text: str, keywords: set[str], filename: str,
                   prefixes: tuple[str, ...] = ()) -> list[Command]:
    """Apply the line rules. `keywords` are the lower-case keywords (and `prefixes` the
    lower-case keyword prefixes, like `kafka_`) that end a block."""
    lines = text.splitlines(keepends=True)
    commands: list[Command] = []
    block_kw: str | None = None
    block_line = 0
    block_text: list[str] = []
    block_nums: list[int] = []

    def close_block():
        commands.append(Command(block_kw, (), block_line, "".join(block_text), tuple(block_nums)))

    for number, line in enumerate(lines, start=1):
        tokens = split_line(line)
        if not tokens:
            continue
        first = tokens[0].lower()
        if block_kw is not None:
            ends = (first in keywords or first.startswith(prefixes)) \
                and not line.startswith((" ", "\t")) \
                and not line.lower().startswith("from")
            if not ends:
                block_text.append(line)
                block_nums.append(number)
                continue
            close_block()
            block_kw = None
        if len(tokens) >= 2 and tokens[1] == ">":
            if len(tokens) > 2:
                raise DatafileError(
                    f"unexpected text after '{tokens[0].upper()} >': the block starts on the next line",
                    filename=filename, line=number,
                    column=line.index(tokens[2], line.index(">") + 1) + 1)
            block_kw = tokens[0].upper()
            block_line = number
            block_text, block_nums = [], []
            continue
        commands.append(Command(tokens[0].upper(), tuple(unquote(t) for t in tokens[1:]), number))
    if block_kw is not None:
        close_block()
    return commands


def block_text(cmd: Command, *, sql: bool = False) -> str:
    """A block's value: dedented + right-stripped; `%` SQL only stripped."""
    raw = cmd.block or ""
    if sql and raw.strip()[:1] == "%":
        return raw.strip()
    return textwrap.dedent(raw).rstrip()

