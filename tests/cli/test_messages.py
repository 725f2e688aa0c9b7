"""What the `wijkwerk` commands say: help that matches what they take, errors printed as written."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import typer
from sqlalchemy import func
from sqlmodel import select
from typer.testing import CliRunner

from app import cli
from app.db import Database
from app.domain.identity.models import OAuthClient, User
from app.security.scopes import MACHINE_ROLES, PERSON_ROLES
from tests.cli.support import invoke
from tests.factories import World, next_code

SWITCHES = [
    (("serve",), "--demo"),
    (("serve",), "--replica"),
    (("relay",), "--once"),
    (("purge",), "--dry-run"),
    (("purge",), "--json"),
    (("clients", "create"), "--json"),
    (("users", "create"), "--bsn-read"),
    (("users", "create"), "--generate-password"),
    (("stats", "refresh"), "--json"),
]
SCOPE_VALUES = [
    ["--scopes", "referrals:read referrals:write"],
    ["--scopes", "referrals:read,referrals:write"],
    ["--scopes", "referrals:read", "--scopes", "referrals:write"],
]


def _paths(app: typer.Typer, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every command and group of ``app``, as the words that name it on the command line."""
    yield prefix
    for command in app.registered_commands:
        assert command.callback is not None
        yield (*prefix, command.name or command.callback.__name__.replace("_", "-"))
    for group in app.registered_groups:
        assert group.typer_instance is not None and group.name is not None
        yield from _paths(group.typer_instance, (*prefix, group.name))


def _help(*path: str) -> str:
    result = CliRunner().invoke(cli.app, [*path, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.output


def _option_line(help_text: str, option: str) -> list[str]:
    [line] = [line.split() for line in help_text.splitlines() if line.strip().startswith(option + " ")]
    return line


def test_switches_show_no_value_type() -> None:
    """--json, --once, --dry-run, ... take no value, so the help names none (it said <bool>)."""
    paths = list(_paths(cli.app))
    assert len(paths) > 12
    for path in paths:
        assert "<bool>" not in _help(*path), path
    for path, switch in SWITCHES:
        line = _option_line(_help(*path), switch)
        assert line[1][0].isupper(), (path, line)  # straight on to the help text


def test_the_role_options_offer_exactly_the_roles_they_take() -> None:
    people = _option_line(_help("users", "create"), "--role")[1].split("|")
    assert set(people) == {str(role) for role in PERSON_ROLES}
    machines = _option_line(_help("clients", "create"), "--role")[1].split("|")
    assert set(machines) == {str(role) for role in MACHINE_ROLES}


async def test_users_create_refuses_a_machine_role_before_asking_anything(
    db: Database, env: dict[str, str]
) -> None:
    username = f"cli.partner{next_code()}"
    refused = await invoke(["users", "create", "--username", username, "--role", "partner"], env)
    assert refused.exit_code == 2
    assert "use one of: generalist, team_lead, resident" in refused.output
    assert "Password" not in refused.output
    async with db.transaction() as session:
        count = await session.scalar(select(func.count()).where(User.username == username))
    assert count == 0


async def test_a_broken_pattern_is_printed_as_written(env: dict[str, str]) -> None:
    """rich read the pattern's brackets as markup and printed '^{1,79}$'."""
    args = ["users", "create", "--username", "X", "--role", "resident", "--generate-password"]
    result = await invoke(args, env)
    assert result.exit_code == 2
    assert "username: String should match pattern '^[a-z0-9][a-z0-9._-]{1,79}$'" in result.stderr
    assert "(string_pattern_mismatch)" in result.stderr


async def test_brackets_in_a_path_are_printed_as_written(tmp_path: Path, env: dict[str, str]) -> None:
    """A folder named like a rich style ('[bold]') is a path, not markup."""
    folder = tmp_path / "contracts [bold]x[/bold]"
    result = await invoke(["openapi", "export", "--out", str(folder)], env)
    assert result.exit_code == 0, result.output
    assert f"wrote {folder / 'openapi.json'}" in result.stdout


async def test_scopes_take_one_value_with_several_scopes_or_the_option_repeated(
    world: World, db: Database, env: dict[str, str]
) -> None:
    line = _option_line(_help("clients", "create"), "--scopes")
    assert line[1] == "SCOPES"
    base = ["clients", "create", "--role", "partner", "--organisation", str(world.organisations["a"].id)]
    for scopes in SCOPE_VALUES:
        client_id = f"cli-scopes-{next_code()}"
        result = await invoke([*base, *scopes, "--client-id", client_id, "--json"], env)
        assert result.exit_code == 0, result.output
        async with db.transaction() as session:
            stored = await session.scalar(select(OAuthClient).where(OAuthClient.client_id == client_id))
        assert stored is not None and sorted(stored.allowed_scopes) == ["referrals:read", "referrals:write"]
