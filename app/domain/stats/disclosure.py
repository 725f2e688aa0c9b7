"""Disclosure control for published aggregates: no published figure, alone or worked out from others,
may single out a small group of households. Pure: no database, no HTTP.

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
* **Two ways to split a node.** A dimension may declare more than one sum for a node (``also``):
  the gemeente is the sum of its wijken and of its resident networks. Every such sum is a relation
  like any other, so a withheld network has a withheld sibling network.
* **Counting one thing, protecting another.** With ``groups`` (the distinct households behind each
  count of plan actions), a cell is also ``below_threshold`` when its group is under the threshold,
  and such a withheld cell tells a reader nothing about its size (the audit gives it no upper bound).
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

Implementation: the relations of a table are arrays (numpy), built once per set of dimensions and
shared by every table with those dimensions; the bounds audit tightens every relation at once per
round (numpy); the greedy partner rule stays sequential, so partners are chosen in a fixed order.
A protected table is remembered by its exact counts (and groups) and the policy.

Not covered here, by design or as residual risk (see docs/statistics.md):

* Linear relations *between different measures* (active, registered and closed households of one
  buurt are linked through the case flow): only rounding and the threshold protect there.
* A figure for a finished period that changes later (a late registration): rounding only.
* Knowing the algorithm: a complementary partner is the smallest published child of its relation,
  so it is at most the other children (still at least ``threshold .. threshold + 2`` wide).
"""

from __future__ import annotations

import math
from collections import OrderedDict, deque
from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from itertools import product
from types import MappingProxyType

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


def protect_counts(table: CountTable, policy: Policy) -> Mapping[Key, Published]:
    """Suppress, add complementary suppressions until nothing can be solved, round.

    The result depends only on the table and the policy, so it is remembered (read-only) for the
    exact same counts: asking again for an unchanged table costs a lookup, and any changed count is
    a different table.
    """
    dims = (_signature(table.areas), _signature(table.periods), _signature(table.categories))
    keys = _grid(*dims).keys
    values = np.fromiter((table.counts.get(key, 0) for key in keys), np.int64, len(keys))
    groups = None
    if table.groups is not None:
        groups = np.fromiter((table.groups.get(key, 0) for key in keys), np.int64, len(keys))
    return _protect(dims, values, groups, policy)


def protect_array(
    areas: Dimension,
    periods: Dimension,
    categories: Dimension,
    counts: np.ndarray,
    policy: Policy,
    groups: np.ndarray | None = None,
) -> Mapping[Key, Published]:
    """``protect_counts`` for a table given as an array ``[area, period, category]`` in node order."""
    dims = (_signature(areas), _signature(periods), _signature(categories))
    shape = (len(areas.nodes), len(periods.nodes), len(categories.nodes))
    if counts.shape != shape or (groups is not None and groups.shape != shape):
        raise ValueError("the array does not match the dimensions")
    flat_groups = None if groups is None else groups.astype(np.int64).reshape(-1)
    return _protect(dims, counts.astype(np.int64).reshape(-1), flat_groups, policy)


def _protect(
    dims: tuple[_Signature, _Signature, _Signature],
    values: np.ndarray,
    groups: np.ndarray | None,
    policy: Policy,
) -> Mapping[Key, Published]:
    memo_key = (dims, values.tobytes(), None if groups is None else groups.tobytes(), policy)
    if (known := _MEMO.get(memo_key)) is not None:
        return known
    grid = _grid(*dims)
    if (values < 0).any():
        raise ValueError("counts cannot be negative")
    # The partner rule protects only what really adds up; a table that does not is a bug upstream.
    if grid.size and not np.array_equal(values[grid.parent], grid.sums(values)):
        raise ValueError("the counts do not add up along a declared sum")
    small = values < policy.threshold
    if groups is not None:
        small |= groups < policy.threshold
    pattern = _Pattern(values, small, grid, policy, sized=groups is None)
    pattern.protect()
    result = MappingProxyType(pattern.published(grid.keys))
    _MEMO.put(memo_key, result, len(grid.keys))
    return result


class _Memo:
    """Protected tables by their exact contents, least recently used first out, bounded in cells."""

    def __init__(self, max_cells: int) -> None:
        self.max_cells = max_cells
        self.cells = 0
        self.entries: OrderedDict[Hashable, tuple[Mapping[Key, Published], int]] = OrderedDict()

    def get(self, key: Hashable) -> Mapping[Key, Published] | None:
        entry = self.entries.get(key)
        if entry is None:
            return None
        self.entries.move_to_end(key)
        return entry[0]

    def put(self, key: Hashable, value: Mapping[Key, Published], cells: int) -> None:
        self.entries[key] = (value, cells)
        self.cells += cells
        while self.cells > self.max_cells and len(self.entries) > 1:
            _, (_, dropped) = self.entries.popitem(last=False)
            self.cells -= dropped

    def clear(self) -> None:
        self.entries.clear()
        self.cells = 0


# About 100 bytes a cell: a few dozen yearly tables of a large municipality, ~50 MB at most.
_MEMO = _Memo(max_cells=500_000)


def forget_protected() -> None:
    """Drop every remembered table (benchmarks measure the cold path with it)."""
    _MEMO.clear()


_Signature = tuple[tuple[str, ...], tuple[Sum, ...]]


def _signature(dimension: Dimension) -> _Signature:
    return dimension.nodes, tuple(dimension.relations())


class _Grid:
    """The cells numbered in declaration order (area, then period, then category), every sum, and
    the sums each cell is in. Depends only on the dimensions, so one grid serves many tables.

    Relation r is ``cell[parent[r]] = sum(cell[child[start[r]:start[r + 1]]])``, in the order: axis,
    then the dimension's sums, then the other two axes' positions. Built with numpy; the Python
    lists beside the arrays serve the sequential partner rule.
    """

    def __init__(self, dims: tuple[_Signature, _Signature, _Signature]) -> None:
        areas, periods, categories = (nodes for nodes, _ in dims)
        self.keys: list[Key] = list(product(areas, periods, categories))
        sizes = [len(nodes) for nodes, _ in dims]
        strides = [sizes[1] * sizes[2], sizes[2], 1]
        parents: list[np.ndarray] = []
        children: list[np.ndarray] = []
        lengths: list[np.ndarray] = []
        for axis, (nodes, sums) in enumerate(dims):
            position = {node: i for i, node in enumerate(nodes)}
            first, second = (i for i in range(3) if i != axis)
            # Every position of the two other axes, the first one major (the cells' own order).
            bases = (
                np.arange(sizes[first])[:, None] * strides[first]
                + np.arange(sizes[second])[None, :] * strides[second]
            ).reshape(-1)
            for parent, kids in sums:
                offsets = np.array([position[c] for c in kids]) * strides[axis]
                parents.append(bases + position[parent] * strides[axis])
                children.append((bases[:, None] + offsets[None, :]).reshape(-1))
                lengths.append(np.full(len(bases), len(kids)))
        self.parent = np.concatenate(parents) if parents else np.zeros(0, np.int64)
        self.child = np.concatenate(children) if children else np.zeros(0, np.int64)
        length = np.concatenate(lengths) if lengths else np.zeros(0, np.int64)
        self.size = len(self.parent)
        self.start = np.zeros(self.size + 1, np.int64)
        np.cumsum(length, out=self.start[1:])
        self.relation = np.repeat(np.arange(self.size), length)  # the relation of every child entry
        # Which relations each cell is in, in relation order (as parent or child): CSR arrays.
        cells = np.concatenate([self.parent, self.child])
        order = np.lexsort((np.concatenate([np.arange(self.size), self.relation]), cells))
        self.member_start = np.zeros(len(self.keys) + 1, np.int64)
        np.cumsum(np.bincount(cells, minlength=len(self.keys)), out=self.member_start[1:])
        self.member_flat = np.concatenate([np.arange(self.size), self.relation])[order]
        # Python copies for the sequential partner rule (list indexing beats numpy scalars there).
        self.parents: list[int] = self.parent.tolist()
        self.children_flat: list[int] = self.child.tolist()
        self.starts: list[int] = self.start.tolist()
        self.members_flat: list[int] = self.member_flat.tolist()
        self.member_starts: list[int] = self.member_start.tolist()

    def sums(self, cells: np.ndarray) -> np.ndarray:
        return np.add.reduceat(cells[self.child], self.start[:-1])

    def children(self, relation: int) -> list[int]:
        return self.children_flat[self.starts[relation] : self.starts[relation + 1]]

    def member_of(self, cell: int) -> list[int]:
        return self.members_flat[self.member_starts[cell] : self.member_starts[cell + 1]]


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
        self.values, self.policy, self.sized, self.grid = values, policy, sized, grid
        self.cell_values: list[int] = values.tolist()
        below = Suppression.below_threshold
        self.hidden: list[Suppression | None] = [below if s else None for s in small.tolist()]
        # Hidden children per relation, kept up to date by _hide: the partner rule checks it often.
        self.hidden_children: list[int] = (
            np.add.reduceat(small[grid.child].astype(np.int64), grid.start[:-1]).tolist() if grid.size else []
        )

    def _hide(self, cell: int, reason: Suppression) -> None:
        if self.hidden[cell] is not None:
            return
        self.hidden[cell] = reason
        parents = self.grid.parents
        for index in self.grid.member_of(cell):
            if parents[index] != cell:
                self.hidden_children[index] += 1

    def protect(self) -> None:
        self._complement(range(self.grid.size))
        while pinned := self._audit():
            partners = {p for p in (self._widening_partner(cell) for cell in pinned) if p is not None}
            if not partners:  # cannot happen with additive tables; withhold everything rather than leak
                for cell in range(len(self.hidden)):
                    self._hide(cell, Suppression.complementary)
                return
            for partner in partners:
                self._hide(partner, Suppression.complementary)
            self._complement(i for p in sorted(partners) for i in self.grid.member_of(p))

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
            parent, children = self.grid.parents[index], self.grid.children(index)
            if not _needs_partner(hidden[parent] is not None, self.hidden_children[index], len(children)):
                continue
            # The smallest visible child loses the least; a single child's partner is its parent.
            visible = [c for c in children if hidden[c] is None]
            partner = self._smallest(visible) if visible else parent
            self._hide(partner, Suppression.complementary)
            # Re-check every relation the partner is in (this one too: it may need a second partner).
            for other in self.grid.member_of(partner):
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
        net = self.grid
        if not net.size:
            return []
        for _ in range(_MAX_ROUNDS):
            child_low, child_high = low[net.child], high[net.child]
            sum_low = np.add.reduceat(child_low, net.start[:-1])
            sum_high = np.add.reduceat(child_high, net.start[:-1])
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
            for index in self.grid.member_of(cell)
            for member in (self.grid.parents[index], *self.grid.children(index))
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
