"""Rate limits per token: requests per second, and readings per second on the device path.

Each token (or session) has two buckets that refill at their rate up to a burst. A request
takes one from the request bucket; a batch of readings takes its size from the readings
bucket. A batch may take the bucket below zero (a debt): a gateway's batch larger than the
burst is still taken once, and the token then waits until the debt is paid, so the average
rate holds whatever the batch size, and no batch is too large to ever pass. A request that
finds its bucket empty (or in debt) is answered 429 with ``Retry-After``, the seconds until
it would pass, and nothing of it is read or kept.

>>> buckets = Buckets(rate=2.0, burst=2.0)
>>> [buckets.take("t", 1, now=0.0) for _ in range(3)]
[0.0, 0.0, 0.5]
>>> buckets.take("t", 1, now=0.5)
0.0
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Buckets of tokens not heard from for this long are forgotten (they would be full).
FORGET_AFTER = 600.0


@dataclass(slots=True)
class Buckets:
    """One bucket per key (a token id), refilled at ``rate`` per second up to ``burst``."""

    rate: float
    burst: float
    _level: dict[str, tuple[float, float]] = field(default_factory=dict)
    _swept: float = 0.0

    def take(self, key: str, amount: float, now: float) -> float:
        """Take ``amount`` for ``key``: 0.0 when taken, else the seconds to wait (nothing
        taken). A bucket above zero may go into debt for one large amount."""
        if self.rate <= 0:
            return 0.0  # no limit
        level, at = self._level.get(key, (self.burst, now))
        level = min(self.burst, level + (now - at) * self.rate) if now > at else level
        if level <= 0:
            self._level[key] = (level, now)
            return max((1.0 - level) / self.rate, 1.0 / self.rate)
        self._level[key] = (level - amount, now)
        if now - self._swept > FORGET_AFTER:
            self._sweep(now)
        return 0.0

    def _sweep(self, now: float) -> None:
        self._swept = now
        full_after = self.burst / self.rate if self.rate > 0 else 0.0
        for key in [k for k, (_, at) in self._level.items()
                    if now - at > max(FORGET_AFTER, full_after)]:
            del self._level[key]


@dataclass(slots=True)
class RateLimits:
    """The service's two limits (``Settings.rate_requests``, ``Settings.rate_readings``)."""

    requests: Buckets
    readings: Buckets

    @classmethod
    def of(cls, requests_per_s: float, readings_per_s: float) -> RateLimits:
        # Bursts of two seconds' worth (at least 20 requests): a dashboard opening loads a
        # few dozen files and answers at once.
        return cls(Buckets(requests_per_s, max(2.0 * requests_per_s, 20.0)),
                   Buckets(readings_per_s, 2.0 * readings_per_s))


class RateLimited(Exception):
    """A request past its token's rate: answered 429 with ``Retry-After``."""

    def __init__(self, what: str, wait: float) -> None:
        super().__init__(f"too many {what} for this token; retry after {wait:.1f} s")
        self.wait = wait
