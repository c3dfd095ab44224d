"""Per-request metrics kept as plain numbers, exposed through prometheus_client.

Every chat request updates one counter and up to four histograms. prometheus_client's
children take a lock per value and walk the bucket list on each observation, which was
a few percent of the gateway's CPU per request. The gateway updates its metrics from
its event loop only, so :class:`LocalHistogram` and :class:`LocalCounter` keep each
labelled child as a list of bucket counts and a sum (one :func:`bisect.bisect_left` and
two additions per observation) and hand them to prometheus_client as a custom collector
(:class:`~prometheus_client.metrics_core.HistogramMetricFamily`,
:class:`~prometheus_client.metrics_core.CounterMetricFamily`), which writes the same
exposition text a ``Histogram``/``Counter`` would (without the optional ``_created``
samples).

Not thread-safe: update a child from one thread (a scrape from another thread may see
one observation half-counted, as with prometheus_client's own children).
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Callable, Iterator, Sequence
from itertools import pairwise
from typing import Generic, TypeVar

from prometheus_client import CollectorRegistry
from prometheus_client.metrics_core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

__all__ = ["LocalCounter", "LocalHistogram"]

C = TypeVar("C")


class HistogramChild:
    """One labelled histogram: ``counts[i]`` observations in bucket ``i`` (not
    cumulative; the last bucket is ``+Inf``) and their ``sum``."""

    __slots__ = ("bounds", "counts", "sum")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)
        self.sum = 0.0

    def observe(self, value: float) -> None:
        """Count ``value`` (in the histogram's unit) in the first bucket whose upper
        bound is at least ``value``."""
        self.counts[bisect_left(self.bounds, value)] += 1
        self.sum += value


class CounterChild:
    """One labelled counter."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0.0

    def inc(self, amount: float = 1.0) -> None:
        """Add ``amount`` (at least 0)."""
        if amount < 0:
            raise ValueError("counters only go up")
        self.value += amount


class _Family(Collector, Generic[C]):
    """Labelled children of one metric, created on first use, registered in
    ``registry``."""

    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: Sequence[str],
        make: Callable[[], C],
        registry: CollectorRegistry,
    ) -> None:
        self.name, self.documentation = name, documentation
        self.labelnames = tuple(labelnames)
        self._make = make
        self._children: dict[tuple[str, ...], C] = {}
        registry.register(self)

    def labels(self, *values: str) -> C:
        """The child of these label values (created on first use).

        Raises:
            ValueError: not one value per label name.
        """
        if len(values) != len(self.labelnames):
            raise ValueError(f"{self.name}: expected {len(self.labelnames)} label values")
        key = tuple(str(v) for v in values)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = self._make()
        return child

    def _items(self) -> list[tuple[list[str], C]]:
        return [(list(key), child) for key, child in list(self._children.items())]


class LocalHistogram(_Family[HistogramChild]):
    """A histogram family registered in ``registry``.

    Args:
        name: Metric name (``_bucket``, ``_sum`` and ``_count`` are added).
        documentation: Help text.
        labelnames: Label names, in the order :meth:`labels` takes their values.
        buckets: Finite upper bounds, increasing (``+Inf`` is added).

    Raises:
        ValueError: bounds not finite and strictly increasing.
    """

    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: Sequence[str],
        *,
        buckets: Sequence[float],
        registry: CollectorRegistry,
    ) -> None:
        bounds = tuple(float(b) for b in buckets)
        if not bounds or any(not math.isfinite(b) for b in bounds):
            raise ValueError(f"{name}: bucket bounds must be finite numbers")
        if any(b >= c for b, c in pairwise(bounds)):
            raise ValueError(f"{name}: bucket bounds must increase")
        self.bounds = bounds
        self._le = [floatToGoString(b) for b in bounds] + ["+Inf"]  # type: ignore[no-untyped-call]
        super().__init__(name, documentation, labelnames, lambda: HistogramChild(bounds), registry)

    def describe(self) -> Iterator[Metric]:
        yield HistogramMetricFamily(self.name, self.documentation, labels=self.labelnames)

    def collect(self) -> Iterator[Metric]:
        family = HistogramMetricFamily(self.name, self.documentation, labels=self.labelnames)
        for labels, child in self._items():
            total, buckets = 0, []
            for le, n in zip(self._le, list(child.counts), strict=True):
                total += n
                buckets.append((le, float(total)))
            family.add_metric(labels, buckets, child.sum)
        yield family


class LocalCounter(_Family[CounterChild]):
    """A counter family registered in ``registry`` (exposed as ``NAME_total``).

    Args:
        name: Metric name without ``_total``.
        documentation: Help text.
        labelnames: Label names, in the order :meth:`labels` takes their values.
    """

    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: Sequence[str],
        *,
        registry: CollectorRegistry,
    ) -> None:
        super().__init__(name, documentation, labelnames, CounterChild, registry)

    def describe(self) -> Iterator[Metric]:
        yield CounterMetricFamily(self.name, self.documentation, labels=self.labelnames)

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily(self.name, self.documentation, labels=self.labelnames)
        for labels, child in self._items():
            family.add_metric(labels, child.value)
        yield family
