"""``wijkwerk areas import FILE``: a year's postcode table from CBS's file, all or nothing, once."""

from __future__ import annotations

from pathlib import Path

from tests.areas.support import HEADER, cbs_file, line, not_held, postcode_of, rows_of_year, table_of
from tests.cli.support import invoke, output_json
from tests.factories import World


async def test_the_table_is_imported_as_ranges_and_other_municipalities_are_passed_over(
    world: World, env: dict[str, str], tmp_path: Path
) -> None:
    path = cbs_file(world, tmp_path / "pc6hnr2025.csv", other=await not_held(world))
    result = output_json(await invoke(["areas", "import", str(path), "--json"], env))
    assert result == {"year": 2025, "addresses": 60, "ranges": 3, "passed_over": 2, "unchanged": False}
    aa, bb = postcode_of(world, "AA"), postcode_of(world, "BB")
    first, second = world.buurten[0].code, world.buurten[1].code
    assert await table_of(world) == [(aa, 1, 30, first), (bb, 1, 20, first), (bb, 22, 40, second)]


async def test_the_same_file_again_changes_nothing(world: World, env: dict[str, str], tmp_path: Path) -> None:
    path = cbs_file(world, tmp_path / "table.csv", other=await not_held(world))
    output_json(await invoke(["areas", "import", str(path), "--json"], env))
    before = await table_of(world)
    again = await invoke(["areas", "import", str(path)], env)
    assert again.exit_code == 0, again.stderr
    assert "nothing changed" in again.stdout
    assert await table_of(world) == before


async def test_malformed_lines_are_named_and_nothing_is_imported(
    world: World, env: dict[str, str], tmp_path: Path
) -> None:
    gemeente = world.municipality.code
    stranger = world.buurten[0].code[:-2] + "99"  # a buurt code of this gemeente it does not have
    broken = (
        "9999XX;1;12;34\n"  # line 64: too few fields
        + line(postcode_of(world, "CC"), 7, world.buurten[0], gemeente).replace(";7;", ";seven;")
        + f"{postcode_of(world, 'CC')};8;{stranger[2:]};{stranger[2:8]};{gemeente[2:]}\n"
        + line(postcode_of(world, "AA"), 3, world.buurten[2], gemeente)  # listed before in buurt 0
    )
    path = cbs_file(world, tmp_path / "broken.csv", other=await not_held(world), extra=broken)
    result = await invoke(["areas", "import", str(path)], env)
    assert result.exit_code == 1
    assert "4 line(s)" in result.stderr and "nothing was imported" in result.stderr
    for number, rule in (
        (64, "too few fields"),
        (65, "house number"),
        (66, "not a buurt of its gemeente"),
        (67, "listed before with another buurt"),
    ):
        assert f"line {number}: " in result.stderr and rule in result.stderr
    assert await rows_of_year(world) == 0


async def test_a_new_file_for_the_year_replaces_its_table_and_keeps_other_years(
    world: World, env: dict[str, str], tmp_path: Path
) -> None:
    path = cbs_file(world, tmp_path / "a.csv", other=await not_held(world))
    output_json(await invoke(["areas", "import", str(path), "--json"], env))
    earlier = tmp_path / "2024.csv"
    aa = postcode_of(world, "AA")
    earlier.write_text(HEADER + line(aa, 1, world.buurten[1], world.municipality.code))
    result = output_json(await invoke(["areas", "import", str(earlier), "--year", "2024", "--json"], env))
    assert (result["year"], result["ranges"]) == (2024, 1)
    assert await table_of(world, 2024) == [(aa, 1, 1, world.buurten[1].code)]
    assert len(await table_of(world, 2025)) == 3
    smaller = tmp_path / "smaller.csv"
    smaller.write_text(HEADER + line(aa, 5, world.buurten[0], world.municipality.code))
    output_json(await invoke(["areas", "import", str(smaller), "--json"], env))
    assert await table_of(world, 2025) == [(aa, 5, 5, world.buurten[0].code)]


async def test_a_file_without_a_year_or_header_is_refused(
    world: World, env: dict[str, str], tmp_path: Path
) -> None:
    no_year = tmp_path / "no-year.csv"
    no_year.write_text("PC6;Huisnummer;Buurt;Gemeente\n")
    result = await invoke(["areas", "import", str(no_year)], env)
    assert result.exit_code == 1 and "line 1: the header names no year" in result.stderr
    no_header = tmp_path / "no-header.csv"
    no_header.write_text(line(postcode_of(world, "AA"), 1, world.buurten[0], world.municipality.code))
    result = await invoke(["areas", "import", str(no_header)], env)
    assert result.exit_code == 1 and "line 1: The header has no" in result.stderr
