"""Disclosure control for published aggregates (DESIGN.md §5). Pure: no database, no HTTP.

Input is a *linked table* of counts: every combination of an area node (gemeente, wijk, buurt),
a period node (year, quarter, month) and a category node (a category or the total), together with
the additive relations between them: a parent cell is the sum of its child cells along one dimension
(wijk = sum of its buurten, quarter = sum of its months, total = sum of its categories). The table
holds every figure that any request for the measure can return, so one protection pattern serves
every level, period and range a consumer can ask for.

Rules (``Policy``):

* **Threshold.** A count under ``threshold`` (default 10, never lower) is suppressed with reason
  ``below_threshold``. Zero is under the threshold too: publishing exact zeros would let a reader
  learn that *everybody* in a group shares a category (all other categories are 0).
* **Rounding.** Every published count is rounded half-up to a multiple of ``rounding_base``
  (default 5, never lower; the threshold must be a multiple of it, so a published count is never
  under the threshold). A published ``p`` tells a reader only that the true count lies in
  ``interval(p)`` (for base 5: ``p-2 .. p+2``, and at least the threshold).
* **Complementary suppression.** For every additive relation (parent = child_1 + ... + child_n):
  with two or more children, the number of suppressed children is 0 or at least 2, and a suppressed
  parent has at least two suppressed children; with one child, parent and child are suppressed
  together. Partners are chosen greedily (the smallest published child, ties in declaration
  order), and the rule is re-checked for every relation the new partner sits in, until nothing
  changes. Partners carry reason ``complementary``; they always hold at least ``threshold`` (smaller
  cells were suppressed already), which a reader may assume.
* **Solving audit.** The partner rule alone does not stop every solution: two buurten of 9 under a
  wijk published as 20 (true 18..22) can only be 9 + 9. So bounds propagation runs over all
  relations, starting from what a reader knows of each cell (a published count's rounding interval,
  ``0 .. threshold-1`` for ``below_threshold``, at least ``threshold`` for ``complementary``); a
  hidden cell it narrows to one value gets another partner (the smallest published cell sharing a
  relation with it) and the partner rule runs again, until the audit finds nothing.
* **Ratios** are computed from the *published* numerator and denominator and are published only when
  both are and the denominator is at least ``min_denominator``; **medians** only for groups of at
  least ``threshold`` and ``min_denominator`` members (reason ``small_denominator`` otherwise).
  Neither is additive, so neither needs partners.

Attacks covered, and how:

1. *A small group is visible* (a buurt with 3 closed files): threshold suppression, zeros included.
2. *A hidden cell from its row or column total* (total over categories, sum over periods): the
   partner rule per relation leaves at least two unknowns in every equation a hidden cell is in.
3. *From the next level up* (a buurt from its wijk and the other buurten; a wijk from the gemeente;
   a month from its quarter; a quarter from its year): the same rule, because these sums are
   relations of the one linked table; a hidden buurt always has a hidden sibling in its wijk when it
   has a sibling at all.
4. *From two requests* (level=wijk next to level=buurt, period=month next to period=quarter, two
   ranges): all of them are slices of the same protected table; the service computes the pattern per
   calendar year (flows) or per period (stocks), never per requested range, so the range chosen does
   not change what is hidden.
5. *From two periods that differ by one case* (a window one day longer): periods are fixed calendar
   months, quarters and years, never free windows; a year is its quarters, a quarter its months, and
   those sums are protected as in 3. Unfinished periods are not published (service), so the same
   figure is not re-published day by day as cases come in; rounding hides a one-case difference
   between figures that do exist.
6. *Solving all published figures together* (linear/integer programming over every published cell
   and total): every published figure is an interval of ``rounding_base`` values, every hidden cell
   sits in equations with at least two unknowns, and the solving audit removes what propagation can
   pin. Propagation is sound but not complete (an integer program can combine equations it does
   not), so the property tests (tests/stats/test_disclosure_properties.py) check with an exact
   integer program over random tables that every hidden cell keeps more than one feasible value
   (also run for 8,000 random tables while building this, without a counterexample).
7. *Ratios and medians of small groups*: see above; a ratio never carries more than its published
   counts.

Not covered here, by design or as residual risk (see docs/statistics.md):

* Linear relations *between different measures* (active, registered and closed households of one
  buurt are linked through the case flow): only rounding and the threshold protect there.
* A figure for a finished period that changes later (a late registration): rounding only.
* Knowing the algorithm: a complementary partner is the smallest published child of its relation,
  so it is at most the other children (still at least ``threshold .. threshold + 2`` wide).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from itertools import product

import numpy as np

MIN_THRESHOLD = 10
MIN_ROUNDING_BASE = 5

Key = tuple[str, str, str]  # (area, period, category)


class Suppression(StrEnum):
    below_threshold = "below_threshold"
    complementary = "complementary"
    small_denominator = "small_denominator"


@dataclass(frozen=True)
class Policy:
    """The disclosure parameters; they can be made stricter, never looser than the defaults."""

    threshold: int = MIN_THRESHOLD
    rounding_base: int = MIN_ROUNDING_BASE
    min_denominator: int = 20

    def __post_init__(self) -> None:
        if self.threshold < MIN_THRESHOLD:
            raise ValueError(f"threshold must be at least {MIN_THRESHOLD}")
        if self.rounding_base < MIN_ROUNDING_BASE:
            raise ValueError(f"rounding_base must be at least {MIN_ROUNDING_BASE}")
        if self.threshold % self.rounding_base:
            raise ValueError("threshold must be a multiple of rounding_base")
        if self.min_denominator < self.threshold:
            raise ValueError("min_denominator must be at least the threshold")

    def round(self, count: int) -> int:
        """Half-up to a multiple of the base (a count at the threshold stays at it)."""
        base = self.rounding_base
        return (count + base // 2) // base * base

    def interval(self, published: int) -> tuple[int, int]:
        """The true counts a reader can infer from a published (rounded) count."""
        base = self.rounding_base
        return max(self.threshold, published - base // 2), published + base - 1 - base // 2


@dataclass(frozen=True)
class Published:
    """A figure as it leaves the service: a value, or ``None`` with the reason it is withheld."""

    value: int | float | None
    suppressed: Suppression | None = None


Sum = tuple[str, tuple[str, ...]]  # (parent node, child nodes)


@dataclass(frozen=True)
class Dimension:
    """The nodes of one dimension a consumer can see, and which nodes are sums of others.

    ``sums`` maps a parent node to its children; leave it empty for a dimension whose nodes do not
    add up (open households per quarter, households per theme when one has several themes).
    ``also`` lists further ways a node splits up: the gemeente is the sum of its wijken *and* of its
    resident networks, and a reader knows both equations.
    """

    nodes: tuple[str, ...]
    sums: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    also: tuple[Sum, ...] = ()

    def __post_init__(self) -> None:
        known = set(self.nodes)
        if len(known) != len(self.nodes):
            raise ValueError("dimension nodes must be unique")
        for parent, children in self.relations():
            if parent not in known or not children or not known.issuperset(children):
                raise ValueError("every sum must relate known nodes")

    def relations(self) -> list[Sum]:
        return [*self.sums.items(), *self.also]

    @staticmethod
    def flat(nodes: Sequence[str]) -> Dimension:
        return Dimension(tuple(nodes))


@dataclass(frozen=True)
class CountTable:
    """Counts for every (area, period, category) combination; a missing key counts 0.

    ``groups`` is given when a count is not of the units the threshold protects: plan actions are
    counted, but households are protected, so a cell also needs ``threshold`` distinct households
    behind it (a missing key counts 0). Such a withheld cell tells a reader nothing about its size.
    """

    areas: Dimension
    periods: Dimension
    categories: Dimension
    counts: Mapping[Key, int]
    groups: Mapping[Key, int] | None = None

    def cells(self) -> Iterator[Key]:
        return iter(product(self.areas.nodes, self.periods.nodes, self.categories.nodes))

    def relations(self) -> list[tuple[Key, tuple[Key, ...]]]:
        """Every (parent cell, child cells) equation a reader of the published figures knows."""
        out: list[tuple[Key, tuple[Key, ...]]] = []
        for parent, children in self.areas.relations():
            for p, c in product(self.periods.nodes, self.categories.nodes):
                out.append(((parent, p, c), tuple((a, p, c) for a in children)))
        for parent, children in self.periods.relations():
            for a, c in product(self.areas.nodes, self.categories.nodes):
                out.append(((a, parent, c), tuple((a, p, c) for p in children)))
        for parent, children in self.categories.relations():
            for a, p in product(self.areas.nodes, self.periods.nodes):
                out.append(((a, p, parent), tuple((a, p, c) for c in children)))
        return out


def protect_counts(table: CountTable, policy: Policy) -> dict[Key, Published]:
    """Suppress, add complementary suppressions until nothing can be solved, round."""
    grid = _grid(_signature(table.areas), _signature(table.periods), _signature(table.categories))
    values = np.fromiter((table.counts.get(key, 0) for key in grid.keys), np.int64, len(grid.keys))
    if (values < 0).any():
        raise ValueError("counts cannot be negative")
    # The partner rule protects only what really adds up; a table that does not is a bug upstream.
    if grid.net.size and not np.array_equal(values[grid.net.parent], grid.net.sums(values)):
        raise ValueError("the counts do not add up along a declared sum")
    small = values < policy.threshold
    if table.groups is not None:
        groups = np.fromiter((table.groups.get(key, 0) for key in grid.keys), np.int64, len(grid.keys))
        small |= groups < policy.threshold
    pattern = _Pattern(values, small, grid, policy, sized=table.groups is None)
    pattern.protect()
    return pattern.published(grid.keys)


_Relation = tuple[int, list[int]]  # (parent cell, child cells), cells by number
_Signature = tuple[tuple[str, ...], tuple[Sum, ...]]


def _signature(dimension: Dimension) -> _Signature:
    return dimension.nodes, tuple(dimension.relations())


class _Net:
    """The relations as arrays: relation r is ``cell[parent[r]] = sum(cell[child[start[r]:start[r+1]]])``."""

    def __init__(self, relations: Sequence[_Relation]) -> None:
        self.size = len(relations)
        self.parent = np.fromiter((p for p, _ in relations), np.int64, self.size)
        lengths = np.fromiter((len(c) for _, c in relations), np.int64, self.size)
        self.child = np.fromiter((c for _, kids in relations for c in kids), np.int64, int(lengths.sum()))
        self.start = np.zeros(self.size, np.int64)
        np.cumsum(lengths[:-1], out=self.start[1:])
        self.relation = np.repeat(np.arange(self.size), lengths)  # the relation of every child entry

    def sums(self, cells: np.ndarray) -> np.ndarray:
        return np.add.reduceat(cells[self.child], self.start)


class _Grid:
    """The cells numbered in declaration order (area, then period, then category), every sum, and
    the sums each cell is in. Depends only on the dimensions, so one grid serves many tables."""

    def __init__(self, dims: tuple[_Signature, _Signature, _Signature]) -> None:
        self.keys: list[Key] = list(product(*(nodes for nodes, _ in dims)))
        sizes = [len(nodes) for nodes, _ in dims]
        strides = [sizes[1] * sizes[2], sizes[2], 1]
        self.relations: list[_Relation] = []
        for axis, (nodes, sums) in enumerate(dims):
            position = {node: i for i, node in enumerate(nodes)}
            others = [(range(sizes[i]), strides[i]) for i in range(3) if i != axis]
            step = strides[axis]
            for parent, children in sums:
                top, kids = position[parent] * step, [position[c] * step for c in children]
                for i, j in product(others[0][0], others[1][0]):
                    base = i * others[0][1] + j * others[1][1]
                    self.relations.append((base + top, [base + k for k in kids]))
        self.net = _Net(self.relations)
        self.member_of: list[list[int]] = [[] for _ in self.keys]
        for index, (parent, children) in enumerate(self.relations):
            self.member_of[parent].append(index)
            for child in children:
                self.member_of[child].append(index)


@lru_cache(maxsize=64)
def _grid(areas: _Signature, periods: _Signature, categories: _Signature) -> _Grid:
    return _Grid((areas, periods, categories))


def _needs_partner(parent_hidden: bool, hidden_children: int, n_children: int) -> bool:
    if n_children == 1:
        return parent_hidden != (hidden_children == 1)
    return hidden_children == 1 or (parent_hidden and hidden_children == 0)


# Stands for "no upper bound known" in the interval audit; larger than any real count, and small
# enough that sums of many of them stay far inside 64-bit integers.
_UNBOUNDED = 10**15
# Rounds of the audit's propagation; each tightens every relation at once. Real tables settle in a
# handful; the cap only bounds pathological ones (propagation is incomplete either way, see _audit).
_MAX_ROUNDS = 200


class _Pattern:
    """The suppression pattern of one table, grown until the partner rule holds and the audit passes.

    ``sized``: a withheld small cell is known to be under the threshold (counts of the protected
    units); without it (counts of actions, protected by their households) it may hold anything.
    """

    def __init__(
        self, values: np.ndarray, small: np.ndarray, grid: _Grid, policy: Policy, *, sized: bool
    ) -> None:
        self.values, self.policy, self.sized = values, policy, sized
        self.relations, self.net, self.member_of = grid.relations, grid.net, grid.member_of
        self.cell_values: list[int] = values.tolist()
        below = Suppression.below_threshold
        self.hidden: list[Suppression | None] = [below if s else None for s in small.tolist()]
        # Hidden children per relation, kept up to date by _hide: the partner rule checks it often.
        self.hidden_children: list[int] = (
            np.add.reduceat(small[self.net.child].astype(np.int64), self.net.start).tolist()
            if self.net.size
            else []
        )

    def _hide(self, cell: int, reason: Suppression) -> None:
        if self.hidden[cell] is not None:
            return
        self.hidden[cell] = reason
        for index in self.member_of[cell]:
            if self.relations[index][0] != cell:
                self.hidden_children[index] += 1

    def protect(self) -> None:
        self._complement(range(len(self.relations)))
        while pinned := self._audit():
            partners = {p for p in (self._widening_partner(cell) for cell in pinned) if p is not None}
            if not partners:  # cannot happen with additive tables; withhold everything rather than leak
                for cell in range(len(self.hidden)):
                    self._hide(cell, Suppression.complementary)
                return
            for partner in partners:
                self._hide(partner, Suppression.complementary)
            self._complement(i for p in sorted(partners) for i in self.member_of[p])

    def published(self, keys: Sequence[Key]) -> dict[Key, Published]:
        base = self.policy.rounding_base
        rounded = ((self.values + base // 2) // base * base).tolist()
        withheld = {reason: Published(None, reason) for reason in Suppression}
        shown: dict[int, Published] = {}
        out: dict[Key, Published] = {}
        for key, reason, value in zip(keys, self.hidden, rounded, strict=True):
            if reason is not None:
                out[key] = withheld[reason]
            else:
                out[key] = shown.get(value) or shown.setdefault(value, Published(value))
        return out

    def _smallest(self, cells: Iterable[int]) -> int:
        return min(cells, key=lambda cell: (self.cell_values[cell], cell))

    def _complement(self, start: Iterable[int]) -> None:
        """Add partners until every relation has 0 or at least 2 hidden children (see module doc)."""
        hidden = self.hidden
        queue = deque(dict.fromkeys(start))
        queued = set(queue)
        while queue:
            index = queue.popleft()
            queued.discard(index)
            parent, children = self.relations[index]
            if not _needs_partner(hidden[parent] is not None, self.hidden_children[index], len(children)):
                continue
            # The smallest visible child loses the least; a single child's partner is its parent.
            visible = [c for c in children if hidden[c] is None]
            partner = self._smallest(visible) if visible else parent
            self._hide(partner, Suppression.complementary)
            # Re-check every relation the partner is in (this one too: it may need a second partner).
            for other in self.member_of[partner]:
                if other not in queued:
                    queue.append(other)
                    queued.add(other)

    def _bounds(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """What a reader knows of each cell before combining the published figures, and which are hidden."""
        policy, base = self.policy, self.policy.rounding_base
        reasons = np.fromiter(
            (0 if h is None else 1 if h is Suppression.below_threshold else 2 for h in self.hidden),
            np.int8,
            len(self.hidden),
        )
        rounded = (self.values + base // 2) // base * base
        low = np.where(reasons == 0, np.maximum(policy.threshold, rounded - base // 2), 0)
        low[reasons == 2] = policy.threshold
        high = np.where(reasons == 0, rounded + base - 1 - base // 2, _UNBOUNDED)
        if self.sized:
            high[reasons == 1] = policy.threshold - 1
        return low, high, reasons > 0

    def _audit(self) -> list[int]:
        """Hidden cells that bounds propagation over every published figure narrows to one value.

        Every round tightens all relations at once (numpy): a parent lies within the sum of its
        children's bounds, a child within the parent's bounds minus the other children's. Sound but
        not complete; the property tests check the result with an exact integer program.
        """
        low, high, hidden = self._bounds()
        net = self.net
        if not net.size:
            return []
        for _ in range(_MAX_ROUNDS):
            child_low, child_high = low[net.child], high[net.child]
            sum_low = np.add.reduceat(child_low, net.start)
            sum_high = np.add.reduceat(child_high, net.start)
            new_low, new_high = low.copy(), high.copy()
            np.maximum.at(new_low, net.parent, sum_low)
            np.minimum.at(new_high, net.parent, sum_high)
            parent_low = new_low[net.parent][net.relation]
            parent_high = new_high[net.parent][net.relation]
            np.maximum.at(new_low, net.child, parent_low - (sum_high[net.relation] - child_high))
            np.minimum.at(new_high, net.child, parent_high - (sum_low[net.relation] - child_low))
            if np.array_equal(new_low, low) and np.array_equal(new_high, high):
                break
            low, high = new_low, new_high
        return np.flatnonzero(hidden & (low >= high)).tolist()

    def _widening_partner(self, cell: int) -> int | None:
        """The smallest published cell sharing a relation with a pinned one: hiding it widens it."""
        candidates = {
            member
            for index in self.member_of[cell]
            for member in (self.relations[index][0], *self.relations[index][1])
            if self.hidden[member] is None
        }
        return self._smallest(candidates) if candidates else None


def protect_ratio(
    numerator: Published, denominator: Published, policy: Policy, *, digits: int = 2
) -> Published:
    """A share from two *published* counts, only above the minimum denominator."""
    if numerator.value is None:
        return Published(None, numerator.suppressed)
    if denominator.value is None:
        return Published(None, denominator.suppressed)
    if denominator.value < policy.min_denominator:
        return Published(None, Suppression.small_denominator)
    return Published(round(numerator.value / denominator.value, digits))


def protect_median(group_size: int, median: float | None, policy: Policy, *, digits: int = 0) -> Published:
    """A median of a group that passes the threshold and the minimum denominator, rounded."""
    if group_size < policy.threshold or median is None:
        return Published(None, Suppression.below_threshold)
    if group_size < policy.min_denominator:
        return Published(None, Suppression.small_denominator)
    scaled = math.floor(median * 10**digits + 0.5) / 10**digits
    return Published(int(scaled) if digits == 0 else scaled)
