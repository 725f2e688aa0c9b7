"""Property tests of disclosure control over random linked tables (no database). The solving check
(``tests.stats.solving``) reads the published figures the way an attacker would."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.domain.stats.disclosure import (
    CountTable,
    Dimension,
    Key,
    Policy,
    Suppression,
    protect_counts,
)
from tests.stats.solving import assert_no_cell_can_be_solved

POLICIES = [Policy(), Policy(), Policy(threshold=15), Policy(threshold=20, rounding_base=10)]


def _leaves(dimension: Dimension, node: str) -> list[str]:
    children = dimension.sums.get(node)
    if not children:
        return [node]
    return [leaf for child in children for leaf in _leaves(dimension, child)]


@st.composite
def area_trees(draw: st.DrawFn) -> Dimension:
    nodes: list[str] = ["GM"]
    sums: dict[str, list[str]] = {"GM": []}
    for w in range(draw(st.integers(1, 3))):
        wijk = f"WK{w}"
        buurten = [f"BU{w}{b}" for b in range(draw(st.integers(1, 3)))]
        nodes += [wijk, *buurten]
        sums["GM"].append(wijk)
        sums[wijk] = buurten
    if draw(st.booleans()):  # a buurt outside any wijk hangs under the gemeente directly
        nodes.append("BUX")
        sums["GM"].append("BUX")
    # Resident networks: the gemeente is also the sum of its networks (a second way to split it).
    networks = tuple(f"NW{n}" for n in range(draw(st.sampled_from([0, 0, 1, 2, 3]))))
    also = (("GM", networks),) if networks else ()
    return Dimension(tuple(nodes) + networks, {k: tuple(v) for k, v in sums.items()}, also)


@st.composite
def period_trees(draw: st.DrawFn) -> Dimension:
    if not draw(st.booleans()):  # stock figures: periods do not add up
        return Dimension.flat([f"P{i}" for i in range(draw(st.integers(1, 2)))])
    quarters = [f"Q{q}" for q in range(draw(st.integers(1, 3)))]
    nodes, sums = ["Y", *quarters], {"Y": tuple(quarters)}
    if draw(st.booleans()):
        for q in quarters:
            months = tuple(f"{q}M{m}" for m in range(draw(st.integers(1, 3))))
            nodes += months
            sums[q] = months
    return Dimension(tuple(nodes), sums)


@st.composite
def category_lists(draw: st.DrawFn) -> Dimension:
    names = [f"c{i}" for i in range(draw(st.integers(1, 4)))]
    if draw(st.booleans()):
        return Dimension(("total", *names), {"total": tuple(names)})
    return Dimension.flat(names)  # e.g. themes: one household can carry several


def _networks(areas: Dimension) -> tuple[str, ...]:
    return next((children for parent, children in areas.also if parent == "GM"), ())


@st.composite
def tables(draw: st.DrawFn) -> tuple[CountTable, Policy]:
    policy = draw(st.sampled_from(POLICIES))
    areas, periods, categories = draw(area_trees()), draw(period_trees()), draw(category_lists())
    top = policy.threshold * 3
    small_or_large = st.one_of(st.integers(0, policy.threshold + 2), st.integers(0, top))
    networks = _networks(areas)
    leaf_counts: dict[Key, int] = {}
    for p in periods.nodes:
        if p in periods.sums:
            continue
        for c in categories.nodes:
            if c in categories.sums:
                continue
            for a in areas.nodes:
                if a not in areas.sums and a not in networks:
                    leaf_counts[(a, p, c)] = draw(small_or_large)
            if networks:  # the same cases, split over the networks another way
                total = sum(v for (_, lp, lc), v in leaf_counts.items() if (lp, lc) == (p, c))
                cuts = sorted(
                    draw(
                        st.lists(
                            st.integers(0, total), min_size=len(networks) - 1, max_size=len(networks) - 1
                        )
                    )
                )
                for network, low, high in zip(networks, [0, *cuts], [*cuts, total], strict=True):
                    leaf_counts[(network, p, c)] = high - low
    counts = {
        (a, p, c): sum(
            leaf_counts[(la, lp, lc)]
            for la in _leaves(areas, a)
            for lp in _leaves(periods, p)
            for lc in _leaves(categories, c)
        )
        for a in areas.nodes
        for p in periods.nodes
        for c in categories.nodes
    }
    groups = None
    if draw(st.booleans()):  # counts of actions, protected by the households behind them
        groups = {key: draw(st.integers(0, value)) for key, value in counts.items()}
    return CountTable(areas, periods, categories, counts, groups), policy


def _rule_holds(parent_hidden: bool, children_hidden: list[bool]) -> bool:
    hidden = sum(children_hidden)
    if len(children_hidden) == 1:
        return parent_hidden == (hidden == 1)
    return hidden != 1 and not (parent_hidden and hidden == 0)


FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(tables())
def test_published_counts_are_rounded_and_never_small(case: tuple[CountTable, Policy]) -> None:
    table, policy = case
    result = protect_counts(table, policy)
    assert set(result) == set(table.cells())
    for key, cell in result.items():
        true = table.counts[key]
        small = true < policy.threshold or (table.groups is not None and table.groups[key] < policy.threshold)
        if cell.value is None:
            assert cell.suppressed is not None
            expected = Suppression.below_threshold if small else Suppression.complementary
            assert cell.suppressed is expected
            continue
        assert not small
        assert cell.suppressed is None
        assert isinstance(cell.value, int)
        assert not 0 <= cell.value < policy.threshold  # never 0, never between 1 and the threshold
        assert cell.value % policy.rounding_base == 0
        low, high = policy.interval(cell.value)
        assert low <= true <= high


@FAST
@given(tables())
def test_every_suppressed_cell_has_partners_in_each_sum(case: tuple[CountTable, Policy]) -> None:
    table, policy = case
    result = protect_counts(table, policy)
    hidden = {key for key, cell in result.items() if cell.value is None}
    for parent, children in table.relations():
        flags = [c in hidden for c in children]
        assert _rule_holds(parent in hidden, flags), (parent, children)
        # The row/column/next-level-up reading: a hidden child with siblings has a hidden sibling.
        if len(children) > 1 and any(flags):
            assert sum(flags) >= 2
    # Deterministic: the same data gives the same pattern (two requests cannot differ).
    assert protect_counts(table, policy) == result


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables())
def test_no_suppressed_cell_can_be_solved_from_the_published_figures(
    case: tuple[CountTable, Policy],
) -> None:
    table, policy = case
    assert_no_cell_can_be_solved(table, protect_counts(table, policy), policy)
