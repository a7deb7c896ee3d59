"""Optimizer rules, one per module, applied in order; each can be switched off by name
(setting ``optimizer_disabled_rules='topn,prune_columns'``), and turning all of them off must
not change any result (tests/test_sql_optimizer.py).

- ``push_filter_into_join``: WHERE conjuncts reading one side of a join go below the join.
- ``push_filter_into_scan``: WHERE into ReadFromMergeTree (partition/granule pruning + exact filter).
- ``topn``: Sort followed by Limit -> TopN (argpartition instead of a full sort).
- ``prune_columns``: scans read only the columns the query needs.
- ``count_from_metadata``: ``SELECT count() FROM t`` from the parts' row counts.
- ``prewhere``: scans read the WHERE columns first, the rest only for granules with matches.
- ``read_in_order``: ORDER BY sorting-key prefix LIMIT n reads only the first granules of each part.
- ``minmax_from_index``: min/max of the first primary-key column (no WHERE) from the parts' primary index.
"""

from __future__ import annotations

from mergetree.planner.optimizer import (count_from_metadata, prewhere, prune_columns, push_filter_into_join,
                                         push_filter_into_scan, minmax_from_index, read_in_order, topn)

RULES = [
    ("push_filter_into_join", push_filter_into_join.apply),
    ("push_filter_into_scan", push_filter_into_scan.apply),
    ("topn", topn.apply),
    ("prune_columns", prune_columns.apply),
    ("count_from_metadata", count_from_metadata.apply),
    ("prewhere", prewhere.apply),
    ("read_in_order", read_in_order.apply),
    ("minmax_from_index", minmax_from_index.apply),
]

RULE_NAMES = [name for name, _ in RULES]


def optimize(plan, disabled=()):
    if isinstance(disabled, str):
        disabled = [d.strip() for d in disabled.split(",") if d.strip()]
    unknown = set(disabled) - set(RULE_NAMES) - {"all"}
    if unknown:
        from mergetree.errors import BadArgumentsError

        raise BadArgumentsError(f"Unknown optimizer rule(s) {sorted(unknown)}; rules: {RULE_NAMES}")
    for name, rule in RULES:
        if name not in disabled and "all" not in disabled:
            plan = rule(plan)
    return plan
