"""Where a GraphQL request's CPU goes, layer by layer, in process (load-independent numbers).

    .venv/bin/python -m bench.graphql.layers [--requests 1000] [--rounds 3] [--only list dashboard]

Each line is the CPU of this process per call (``time.process_time``; PostgreSQL's own work is not in
it), for the same anonymous query with production settings, from the innermost layer out; the rounds
alternate over the layers, so a change in the machine's load hits all of them alike:

* ``floor``: the floor app (``floor.py``) over ASGI: Starlette, one asyncpg statement, the bytes.
* ``statement``: the compiled plan's statements in a read session (``Plan.run``), nothing around it.
* ``execute``: ``schema.execute`` with a context made by hand: the extensions' hooks, the cached parse
  and validation, the plan looked up and run, the result.
* ``request``: the whole request through the app over ASGI (middleware, routing, the context's
  FastAPI dependencies, Strawberry's HTTP view, the response).

The differences are the layers' shares: execute - statement is Strawberry's operation around the
compiled answer; request - execute is HTTP, FastAPI and the view.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Awaitable, Callable

import orjson
import uvloop
from fastapi import FastAPI

from app.graphql.compiled import Plan, mirror_of
from app.graphql.context import GraphQLContext
from app.graphql.loaders.reads import ShortReads
from app.main import create_app
from app.settings import Settings
from bench.casefile.cpu import call as asgi_call
from bench.graphql import data, floor, inproc, run
from graphql import parse

Call = Callable[[], Awaitable[object]]


def _per_call(calls: int) -> Callable[[Call], Awaitable[float]]:
    async def measure(call: Call) -> float:
        start = time.process_time()
        for _ in range(calls):
            await call()
        return 1000 * (time.process_time() - start) / calls

    return measure


def _layers(asgi: FastAPI, settings: Settings, name: str, body: bytes) -> dict[str, Call]:
    state = asgi.state
    schema = state.graphql_schema
    request = orjson.loads(body)
    reads = ShortReads(state.db)

    def context() -> GraphQLContext:
        return GraphQLContext(state.db, None, None, settings, state.cursors, reads)  # type: ignore[arg-type]

    async def execute() -> object:
        result = await schema.execute(
            request["query"], variable_values=request.get("variables"), context_value=context()
        )
        assert not result.errors, result.errors
        return result

    plan = Plan.of(mirror_of(schema), parse(request["query"]), None, request.get("variables"))

    async def statement() -> object:
        return await plan.run(context())

    path = "/dashboard/" + data.BIG_BUURT if name == "dashboard" else "/list"

    async def floor_call() -> object:
        status, _ = await asgi_call(floor.app, ("POST", path, {"Host": "bench"}, ""))
        assert status == 200
        return status

    async def whole() -> object:
        status, answer = await inproc.call(asgi, body)
        assert status == 200 and b'"errors"' not in answer, answer[:300]
        return status

    return {"floor": floor_call, "statement": statement, "execute": execute, "request": whole}


async def main_async(options: argparse.Namespace) -> None:
    db = data.start()
    await data.prepare(db)
    settings = run.production_settings(db.url)
    asgi = create_app(settings)
    os.environ["FLOOR_DSN"] = db.dsn
    measure = _per_call(options.requests)
    async with asgi.router.lifespan_context(asgi), floor.lifespan(floor.app):
        for name, body in run.wijkwerk_bodies().items():
            if name not in options.only:
                continue
            layers = _layers(asgi, settings, name, body.encode())
            for call in layers.values():  # warm: caches, pools
                for _ in range(50):
                    await call()
            spent: dict[str, list[float]] = {layer: [] for layer in layers}
            for _ in range(options.rounds):
                for layer, call in layers.items():
                    spent[layer].append(await measure(call))
            print(f"{name} ({options.requests} calls x {options.rounds} rounds, CPU ms/call, median [min]):")
            for layer, figures in spent.items():
                print(f"  {layer:10} {statistics.median(figures):6.3f} [{min(figures):.3f}]")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", nargs="+", default=["list", "dashboard"], choices=["dashboard", "list"])
    uvloop.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
