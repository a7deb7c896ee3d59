"""Per-token rate limits: ``X-RateLimit-*`` headers, and 429 with ``Retry-After`` when exceeded.

A token's rate (requests per second) is, first found:

1. the JWT's ``limits.rps`` (as Tinybird's JWTs carry it), or a static token's ``limits.rps``;
2. the server's default for non-admin tokens: ``create_app(rate_limit_rps=)`` or the environment
   variable ``MERGETREE_RATE_LIMIT_RPS``; unset means unlimited (the default, so nothing else is
   throttled). The admin token is never limited by the default.

Each token (by its value) has a token bucket of capacity ``rps`` (one second's worth of burst,
at least 1) refilled at ``rps`` per second. Headers on every response of a limited token:
``X-RateLimit-Limit`` (rps), ``X-RateLimit-Remaining`` (whole requests left in the bucket) and
``X-RateLimit-Reset`` (seconds until the bucket is full again); a refused request gets 429 with
``Retry-After`` (whole seconds until one request is allowed). Views never see this: it runs in
``http.principal`` (the one place a request is authenticated).
"""

from __future__ import annotations

import math
import os
import threading
import time

from mergetree.server.errors import DOC_OVERVIEW, ApiError

#: buckets kept at most (idle full buckets are dropped first)
MAX_BUCKETS = 100_000


def _rps(value) -> float | None:
    try:
        rps = float(value)
    except (TypeError, ValueError):
        return None
    return rps if rps > 0 and math.isfinite(rps) else None


class RateLimiter:
    def __init__(self, default_rps: float | None = None, clock=time.monotonic):
        if default_rps is None:
            default_rps = _rps(os.environ.get("MERGETREE_RATE_LIMIT_RPS"))
        self.default_rps = _rps(default_rps)
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, list[float]] = {}     # key -> [tokens, last refill time]

    def rate_for(self, who) -> float | None:
        limits = getattr(who, "limits", None)
        if limits and isinstance(limits, dict):
            rps = _rps(limits.get("rps"))
            if rps is not None:
                return rps
        if getattr(who, "is_admin", False):
            return None
        return self.default_rps

    def check(self, who) -> dict[str, str]:
        """Take one request from ``who``'s bucket: the headers to send, or ApiError 429."""
        rps = self.rate_for(who)
        if rps is None:
            return {}
        capacity = max(1.0, rps)
        key = getattr(who, "key", "") or getattr(who, "name", "")
        now = self._clock()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                if len(self._buckets) >= MAX_BUCKETS:
                    self._prune(now, rps)
                bucket = self._buckets[key] = [capacity, now]
            tokens = min(capacity, bucket[0] + (now - bucket[1]) * rps)
            allowed = tokens >= 1.0
            if allowed:
                tokens -= 1.0
            bucket[0], bucket[1] = tokens, now
        limit = f"{rps:g}"
        reset = str(max(0, math.ceil((capacity - tokens) / rps)))
        headers = {"X-RateLimit-Limit": limit, "X-RateLimit-Remaining": str(int(tokens)),
                   "X-RateLimit-Reset": reset}
        if not allowed:
            retry = str(max(1, math.ceil((1.0 - tokens) / rps)))
            raise ApiError(429, f"Too many requests: the token '{getattr(who, 'name', '')}' is limited to "
                                f"{limit} requests per second; retry in {retry} s", DOC_OVERVIEW,
                           headers={**headers, "Retry-After": retry})
        return headers

    def _prune(self, now: float, rps: float) -> None:
        """Drop the buckets idle long enough to be full again (then the oldest half if still too many)."""
        idle = [k for k, (_, last) in self._buckets.items() if now - last > 60]
        for k in idle:
            del self._buckets[k]
        if len(self._buckets) >= MAX_BUCKETS:
            for k in sorted(self._buckets, key=lambda k: self._buckets[k][1])[:MAX_BUCKETS // 2]:
                del self._buckets[k]
