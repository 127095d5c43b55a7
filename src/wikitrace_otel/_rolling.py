"""Two running sums over a rolling time window, kept in a fixed number of buckets, so memory
stays the same whatever the rate of additions. Budget rules use it for spend per key, alerts
for calls and errors per service. Whole-number amounts (pico-dollars, tokens, counts) stay
integers, so their sums are exact however many additions there are."""

from __future__ import annotations

import collections


class RollingSums:
    """Sums of two quantities over the last ``window`` seconds.

    The window moves in steps of ``window / buckets``: an addition leaves the sums once its
    bucket is older than the last ``buckets`` buckets. Additions may come out of time order
    (spend restored from a store); each goes into its own bucket.
    """

    __slots__ = ("width", "count", "buckets", "first", "second")

    def __init__(self, window: float, buckets: int) -> None:
        self.width = window / buckets
        self.count = buckets
        self.buckets: collections.deque[list[float]] = collections.deque()  # [index, first, second]
        self.first: float = 0
        self.second: float = 0

    def roll(self, now: float) -> None:
        """Drop the buckets that left the window ending at ``now``."""
        oldest = int(now / self.width) - self.count + 1
        buckets = self.buckets
        while buckets and buckets[0][0] < oldest:
            _, first, second = buckets.popleft()
            self.first -= first
            self.second -= second
        if not buckets:  # no rounding drift left behind an empty window
            self.first = self.second = 0

    def add(self, first: float, second: float, at: float) -> None:
        """Add both amounts at time ``at``."""
        self.first += first
        self.second += second
        index = int(at / self.width)
        buckets = self.buckets
        if buckets and buckets[-1][0] == index:
            bucket = buckets[-1]
        elif not buckets or index > buckets[-1][0]:
            bucket = [index, 0, 0]
            buckets.append(bucket)
        else:
            bucket = self._older_bucket(index)
        bucket[1] += first
        bucket[2] += second

    def _older_bucket(self, index: int) -> list[float]:
        for bucket in self.buckets:
            if bucket[0] == index:
                return bucket
        bucket = [index, 0, 0]
        self.buckets = collections.deque(sorted([*self.buckets, bucket]))
        return bucket
