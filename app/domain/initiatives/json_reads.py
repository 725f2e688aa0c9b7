"""Dashboard reads in which PostgreSQL builds the JSON of a whole subtree, in one statement.

The GraphQL compiled read path (``app.graphql.compiled``) describes what a query selects as a
``Shape``: per response key, a field of the read model, its arguments and, for an object, the shape
below it. This module turns a shape into one statement over the SAME selects the loaders use
(``repository.visible_initiatives``, ``buurten``): the viewer's visibility (ideas, private columns)
is one definition with two uses; a grant is read under its visible initiative (see ``_grant``).
Values are written as GraphQL writes them: enum values in capitals, ids as text, timestamps in the
API's one format (``documents.iso_utc``), lists newest first, the theme list in the initiative's own
order over the active themes.

Only what has a mapping here is compiled; a field outside it (a private field, a cursor) makes the
caller take the resolver path for that root field.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by
from sqlalchemy.sql import operators
from sqlalchemy.sql.visitors import replacement_traverse

from app.db import RawStatement
from app.domain.base import table_of
from app.domain.documents import constant, iso_utc
from app.domain.initiatives import repository as repo
from app.domain.initiatives.access import Viewer
from app.domain.initiatives.models import Grant, YearPlan
from app.domain.initiatives.schemas import InitiativeFilter
from app.domain.reference.models import Theme

EMPTY = constant("'[]'::json")
JSON = "json"  # the one column of every statement here


@dataclass(frozen=True)
class Selected:
    """One response key: the field it names (``name``), its arguments, and the shape below it (objects)."""

    key: str
    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    shape: tuple[Selected, ...] = ()


Shape = tuple[Selected, ...]


def _text(value: Any) -> Any:
    return sa.cast(value, sa.Text)


def _upper(value: Any) -> Any:
    return sa.func.upper(value)


def _object(type_name: str, shape: Shape, columns: dict[str, Callable[[Selected], Any]]) -> Any:
    pairs: list[Any] = []
    for selected in shape:
        value = (
            constant(f"'{type_name}'") if selected.name == "__typename" else columns[selected.name](selected)
        )
        pairs += [constant(_quoted(selected.key)), value]
    return sa.func.json_build_object(*pairs)


def _quoted(key: str) -> str:
    # Response keys are GraphQL names ([_A-Za-z][_0-9A-Za-z]*): nothing to escape in a SQL literal.
    return f"'{key}'"


# -- the fields each type maps ------------------------------------------------------------------------


def neighbourhood_columns(
    code: Any, name: Any, wijk_code: Any, wijk_name: Any
) -> dict[str, Callable[[Selected], Any]]:
    return {
        "code": lambda _: code,
        "name": lambda _: name,
        "wijkCode": lambda _: wijk_code,
        "wijkName": lambda _: wijk_name,
    }


def _themes(codes: Any, shape: Shape) -> Any:
    theme = table_of(Theme).c
    listed = sa.func.unnest(codes).table_valued("code", with_ordinality="n").render_derived("u")
    columns = {
        "code": lambda _: theme.code,
        "labelNl": lambda _: theme.label_nl,
        "labelEn": lambda _: theme.label_en,
    }
    item = _object("Theme", shape, columns)
    return (
        sa.select(sa.func.coalesce(sa.func.json_agg(aggregate_order_by(item, listed.c.n)), EMPTY))
        .select_from(listed.join(table_of(Theme), sa.and_(theme.code == listed.c.code, theme.active)))
        .scalar_subquery()
    )


def _grant(initiative_id: Any, shape: Shape) -> Any:
    """The grant of an initiative row that is already visible (it comes from ``visible_initiatives``).

    A grant is visible exactly when its initiative is (``repository.visible_grants``: the
    initiative's visibility, and its private ``reason`` masked, which has no mapping here), so under
    a visible initiative its public columns are read from the table itself: no second join to
    ``initiatives`` and none to ``year_plans`` per item unless the year is selected."""
    g = table_of(Grant).c
    year_plan = table_of(YearPlan).c
    columns = {
        "id": lambda _: _text(g.id),
        "decision": lambda _: _upper(g.decision),
        "amountCents": lambda _: g.amount_cents,
        "decidedAt": lambda _: iso_utc(g.decided_at),
        "year": lambda _: sa.select(year_plan.year).where(year_plan.id == g.year_plan_id).scalar_subquery(),
    }
    return (
        sa.select(_object("Grant", shape, columns))
        .select_from(table_of(Grant))
        .where(g.initiative_id == initiative_id)
        .scalar_subquery()
    )


def initiative_object(s: Any, shape: Shape) -> Any:
    """The JSON object of one initiative row of ``s`` (a subquery of ``visible_initiatives``)."""
    columns: dict[str, Callable[[Selected], Any]] = {
        "id": lambda _: _text(s.c.id),
        "title": lambda _: s.c.title,
        "summary": lambda _: s.c.summary,
        "status": lambda _: _upper(s.c.status),
        "requestedAmountCents": lambda _: s.c.requested_cents,
        "grantedAmountCents": lambda _: s.c.granted_cents,
        "spentAmountCents": lambda _: s.c.spent_cents,
        "startsOn": lambda _: s.c.starts_on,
        "endsOn": lambda _: s.c.ends_on,
        "participantsReached": lambda _: s.c.participants_reached,
        "year": lambda _: s.c.year,
        "version": lambda _: s.c.version,
        "createdAt": lambda _: iso_utc(s.c.created_at),
        "updatedAt": lambda _: iso_utc(s.c.updated_at),
        "themes": lambda f: _themes(s.c.themes, f.shape),
        "grant": lambda f: _grant(s.c.id, f.shape),
        "network": lambda f: _object(
            "Network", f.shape, {"id": lambda _: _text(s.c.network_id), "name": lambda _: s.c.network_name}
        ),
        "neighbourhood": lambda f: _object(
            "Neighbourhood",
            f.shape,
            neighbourhood_columns(s.c.buurt_code, s.c.buurt_name, s.c.wijk_code, s.c.wijk_name),
        ),
    }
    return _object("Initiative", shape, columns)


INITIATIVE_FIELDS = frozenset(
    {
        "__typename", "id", "title", "summary", "status", "requestedAmountCents", "grantedAmountCents",
        "spentAmountCents", "startsOn", "endsOn", "participantsReached", "year", "version", "createdAt",
        "updatedAt", "themes", "grant", "network", "neighbourhood",
    }
)  # fmt: skip
OBJECT_FIELDS = {
    "themes": frozenset({"__typename", "code", "labelNl", "labelEn"}),
    "grant": frozenset({"__typename", "id", "decision", "amountCents", "decidedAt", "year"}),
    "network": frozenset({"__typename", "id", "name"}),
    "neighbourhood": frozenset({"__typename", "code", "name", "wijkCode", "wijkName"}),
}


def _newest(select: sa.Select[Any], limit: int) -> Any:
    """The ``limit`` newest rows, the limit written into the statement (an int: nothing to escape;
    the statements are kept per page size anyway). As a parameter, PostgreSQL's generic plan has to
    guess it, costs that plan above the one for the actual value and so plans the statement anew on
    every run (~0.7 ms of the list's 1.2 ms of PostgreSQL CPU). Written here rather than through
    SQLAlchemy's ``literal_execute``, which would rewrite the statement's text on every run."""
    v = select.subquery("v")
    newest = sa.select(v).order_by(v.c.created_at.desc(), v.c.id.desc())
    return newest.limit(sa.literal_column(str(int(limit)), sa.Integer)).subquery("s")


def _ranked_items(page: Any, shape: Shape) -> Any:
    rank = sa.func.row_number().over(order_by=(page.c.created_at.desc(), page.c.id.desc()))
    return sa.select(initiative_object(page, shape).label("item"), rank.label("n")).subquery("p")


def _items(p: Any, up_to: int | None = None) -> Any:
    aggregated: Any = sa.func.json_agg(aggregate_order_by(p.c.item, p.c.n))
    if up_to is not None:
        aggregated = aggregated.filter(p.c.n <= up_to)
    return sa.func.coalesce(aggregated, EMPTY)


def initiatives_list(viewer: Viewer, flt: InitiativeFilter, first: int, shape: Shape) -> Any:
    """``initiatives(filter, first)`` as a connection: nodes and pageInfo.hasNextPage (one extra row)."""
    p = _ranked_items(_newest(repo.visible_initiatives(viewer, flt), first + 1), _nodes_shape(shape))
    columns: dict[str, Callable[[Selected], Any]] = {
        "nodes": lambda _: _items(p, first),
        "pageInfo": lambda f: _object(
            "PageInfo", f.shape, {"hasNextPage": lambda _: sa.func.count() > first}
        ),
    }
    return sa.select(_text(_object("InitiativeConnection", shape, columns)).label(JSON)).select_from(p)


def _nodes_shape(shape: Shape) -> Shape:
    """Every ``nodes`` selection's fields in one object (the connection has one list of nodes)."""
    return tuple(f for selected in shape if selected.name == "nodes" for f in selected.shape)


def neighbourhood(viewer: Viewer, code: str, shape: Shape) -> Any:
    """``neighbourhood(code)`` with its fields and initiative lists, or no row. The lists filter on
    the buurt's code (``InitiativeFilter.neighbourhood``), the same rows as its id."""
    b = repo.buurten().subquery("b")

    def initiatives(selected: Selected) -> Any:
        args = selected.arguments
        flt = InitiativeFilter(neighbourhood=code, statuses=args["statuses"], theme=args["theme"])
        p = _ranked_items(_newest(repo.visible_initiatives(viewer, flt), args["first"]), selected.shape)
        return sa.select(_items(p)).select_from(p).scalar_subquery()

    columns = {
        **neighbourhood_columns(b.c.code, b.c.name, b.c.wijk_code, b.c.wijk_name),
        "initiatives": initiatives,
    }
    neighbourhood = _text(_object("Neighbourhood", shape, columns)).label(JSON)
    return sa.select(neighbourhood).select_from(b).where(b.c.code == code)


@dataclass(frozen=True)
class Prepared:
    """A compiled read as one raw statement (``app.db.RawStatement``) and the values it runs with.

    The statements above are SQLAlchemy constructs whose values are bound in them (a buurt's code,
    the viewer's networks, the statuses a list leaves out); each such value becomes a named
    parameter here, kept beside the statement. Run through ``Database.read_one``, a compiled read
    is one round trip on a pooled connection (or a replica's session), without the session, the
    connection checkout and the result handling that SQLAlchemy's execution costs per statement
    (about 0.35 ms of CPU against the list's 0.1 ms statement round trip)."""

    statement: RawStatement
    values: dict[str, Any]

    @classmethod
    def of(cls, statement: sa.Select[Any]) -> Prepared:
        values: dict[str, Any] = {}
        named: dict[int, Any] = {}

        def bound(element: sa.BindParameter[Any], value: Any, type_: Any) -> Any:
            if id(element) not in named:
                name = f"v{len(named)}"
                values[name] = value
                named[id(element)] = sa.bindparam(name, type_=type_, required=True)
            return named[id(element)]

        def parameter(element: Any, **_: Any) -> Any:
            if isinstance(element, sa.BinaryExpression) and element.operator in _IN_LISTS:
                # ``IN (...)`` has a parameter per item, unknown until the run (a raw statement's
                # text is fixed): the items go in one array, ``= ANY`` / ``<> ALL`` it.
                listed = element.right
                if not isinstance(listed, sa.BindParameter) or not listed.expanding:
                    return None
                array = bound(listed, list(listed.effective_value or ()), ARRAY(element.left.type))
                return _IN_LISTS[element.operator](element.left, array)
            if isinstance(element, sa.BindParameter):
                return bound(element, element.effective_value, element.type)
            return None

        options: dict[str, Any] = {}
        return cls(RawStatement.of(replacement_traverse(statement, options, parameter)), values)


_IN_LISTS: dict[Any, Callable[[Any, Any], Any]] = {
    operators.in_op: lambda left, array: left == sa.any_(array),
    operators.not_in_op: lambda left, array: left != sa.all_(array),
}


# Runs a raw statement where reads may lag and answers its one row (``Database.read_one``).
ReadOne = Callable[[RawStatement, Mapping[str, Any]], Awaitable[Any]]


async def json_text(read_one: ReadOne, prepared: Prepared) -> str | None:
    """The one JSON value the statement builds, as PostgreSQL wrote it (None when it finds no row)."""
    row = await read_one(prepared.statement, prepared.values)
    return None if row is None else str(row[JSON])


def parse_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None
