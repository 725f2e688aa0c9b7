"""The composition root misses nothing: every entity the code records in the change feed is one the
sync registry can load (else phones would never get it), and nothing registers itself on import."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path
from typing import Any

from app.bootstrap import EXPORT_SECTIONS, SYNC_ENTITIES, wiring

APP = Path(__file__).resolve().parent.parent / "app"

# ``ChangeRecord(..., entity, ...)`` where the entity comes from the registry itself (the member
# cascade asks every registered entity what deleting a member touches): registered by construction.
FROM_THE_REGISTRY = {("app.domain.households.members", "entity")}
# What records a change: a ``ChangeRecord`` (its second argument or ``entity=``), or a case write of
# ``households.case_write``, whose statement writes the change row of its ``entity=``.
RECORDERS = {"ChangeRecord", "CaseInsert", "CaseUpdate", "CaseRemoval"}


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(APP.parent).with_suffix("").parts)


def _resolve(module: Any, node: ast.expr) -> Any:
    """The value of a string literal, a module constant, or an attribute of an imported module."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return getattr(module, node.id)
    if isinstance(node, ast.Attribute):
        return getattr(_resolve(module, node.value), node.attr)
    raise AssertionError(f"{module.__name__}: cannot tell the entity of {ast.unparse(node)}")


def recorded_entities() -> dict[str, set[str]]:
    """Entity name -> the modules that record it, read from every recorder's call in app/."""
    found: dict[str, set[str]] = {}
    for path in sorted(APP.rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        name = _module_name(path)
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) in RECORDERS):
                continue
            arguments = {k.arg: k.value for k in node.keywords}
            is_record = getattr(node.func, "id", None) == "ChangeRecord"
            entity = node.args[1] if is_record and len(node.args) > 1 else arguments["entity"]
            if (name, ast.unparse(entity)) in FROM_THE_REGISTRY:
                continue
            found.setdefault(_resolve(importlib.import_module(name), entity), set()).add(name)
    return found


def test_every_entity_in_the_change_feed_is_registered_for_sync() -> None:
    recorded = recorded_entities()
    assert len(recorded) >= 7, recorded  # the scan finds the calls (a guard for the guard)
    missing = {
        entity: sorted(modules) for entity, modules in recorded.items() if entity not in wiring().sync.names()
    }
    assert not missing, f"recorded in the change feed but not in app.bootstrap.SYNC_ENTITIES: {missing}"


def test_the_registries_list_each_entity_and_section_once() -> None:
    names = [e.name for e in SYNC_ENTITIES]
    sections = [s.name for s in EXPORT_SECTIONS]
    assert len(names) == len(set(names)) and len(sections) == len(set(sections))
    assert {"household", "member", "contact_moment", "assessment", "plan", "network_person"} <= set(names)


def test_no_module_registers_itself_on_import() -> None:
    """The registries are data handed to the wiring: no module calls a register function."""
    offenders = [
        str(path.relative_to(APP.parent))
        for path in APP.rglob("*.py")
        if "register_sync_entity(" in path.read_text() or "register_export_section(" in path.read_text()
    ]
    assert offenders == []
