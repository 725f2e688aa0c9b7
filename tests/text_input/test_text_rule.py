"""The rule itself, without the service: which characters each kind of text takes."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import TypeAdapter, ValidationError

from app.domain import text
from app.domain.text import CONTROL_CHARACTER, MultiLine, SingleLine

SINGLE = TypeAdapter(SingleLine)
MULTI = TypeAdapter(MultiLine)
C0_AND_DEL = [chr(c) for c in range(0x20)] + ["\x7f"]
LINE_BREAKS_AND_TABS = ["\n", "\r", "\t"]


def _rule(adapter: TypeAdapter[str], value: str) -> str | None:
    try:
        adapter.validate_python(value)
    except ValidationError as error:
        [entry] = error.errors()
        return text.describe(entry)[0]
    return None


@pytest.mark.parametrize("character", C0_AND_DEL, ids=lambda c: f"U+{ord(c):04X}")
def test_one_line_refuses_every_control_character(character: str) -> None:
    assert _rule(SINGLE, f"Jan{character}sen") == CONTROL_CHARACTER


@pytest.mark.parametrize("character", C0_AND_DEL, ids=lambda c: f"U+{ord(c):04X}")
def test_several_lines_take_line_breaks_and_tabs_only(character: str) -> None:
    expected = None if character in LINE_BREAKS_AND_TABS else CONTROL_CHARACTER
    assert _rule(MULTI, f"regel een{character}regel twee") == expected


def test_ordinary_text_passes_both() -> None:
    for value in (
        "",
        "Zo\u00eb van \u2019t Hof \u2013 caf\u00e9 \u2116 5",
        "emoji 🙂 and NBSP\u00a0here",
        "[a-z]{1,79}",
    ):
        assert _rule(SINGLE, value) is None and _rule(MULTI, value) is None


def test_describe_names_only_the_text_rule_and_never_the_value() -> None:
    with pytest.raises(ValidationError) as raised:
        SINGLE.validate_python("geheim\x00")
    [entry] = raised.value.errors()
    rule, message = text.describe(entry)
    assert (rule, "geheim" in message) == (CONTROL_CHARACTER, False)
    other = {
        "type": "string_pattern_mismatch",
        "msg": "String should match pattern '^BU'",
        "ctx": {"pattern": "^BU"},
    }
    assert text.describe(other) == ("string_pattern_mismatch", "String should match pattern '^BU'")


def test_the_rule_is_defined_once() -> None:
    """No module of the app spells a control-character range of its own."""
    app = Path(text.__file__).parents[1]
    spelled = [
        str(path.relative_to(app.parent))
        for path in sorted(app.rglob("*.py"))
        if path != Path(text.__file__) and ("\\x1f" in path.read_text() or "\\x00" in path.read_text())
    ]
    assert spelled == []
