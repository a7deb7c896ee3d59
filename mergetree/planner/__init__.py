"""Query planning: binder (names, aliases, aggregates) -> logical plan (logical.py) -> optimizer
rules (optimizer/, one per module, each switchable off by name) -> executor (mergetree/exec)."""
