"""The postcode table's rules without a database: reading CBS's header and lines, folding addresses."""

from __future__ import annotations

import pytest

from app.domain.areas.rules import Address, HeaderInvalid, fold, parse_address, read_header

HEADER = "PC6;Huisnummer;Buurt2024;Wijk2024;Gemeente2024"


def test_the_header_says_where_the_columns_are_and_which_year() -> None:
    layout = read_header("\ufeff" + HEADER + "\r\n")
    assert (layout.delimiter, layout.postcode, layout.house_number, layout.buurt, layout.gemeente) == (
        ";",
        0,
        1,
        2,
        4,
    )
    assert layout.year == 2024
    comma = read_header('"Gemeente2023","PC6","Huisnummer","Buurt2023"')
    assert (comma.delimiter, comma.gemeente, comma.postcode, comma.buurt, comma.year) == (",", 0, 1, 3, 2023)


@pytest.mark.parametrize(
    ("header", "missing"),
    [
        ("Huisnummer;Buurt2024;Gemeente2024", "postcode"),
        ("PC6;Buurt2024;Gemeente2024", "house number"),
        ("PC6;Huisnummer;Gemeente2024", "buurt"),
        ("PC6;Huisnummer;Buurt2024", "gemeente"),
    ],
)
def test_a_header_without_a_column_is_refused_naming_it(header: str, missing: str) -> None:
    with pytest.raises(HeaderInvalid, match=missing):
        read_header(header)


def test_codes_are_read_with_or_without_their_letters_and_leading_zeros() -> None:
    layout = read_header(HEADER)
    expected = Address("9901AB", 12, "BU01180107", "GM0118")
    assert parse_address("9901AB;12;01180107;011801;0118", layout) == expected
    assert parse_address('"9901 ab";12;"1180107";11801;118', layout) == expected
    assert parse_address("9901AB;12;BU01180107;WK011801;GM0118\n", layout) == expected


@pytest.mark.parametrize(
    ("line", "rule"),
    [
        ("9901AB;12;01180107", "too few fields"),
        ("99AB;12;01180107;011801;0118", "postcode"),
        ("9901SS;12;01180107;011801;0118", "postcode"),
        ("9901AB;twelve;01180107;011801;0118", "house number"),
        ("9901AB;0;01180107;011801;0118", "house number"),
        ("9901AB;12;123456789;011801;0118", "buurt code"),
        ("9901AB;12;01180107;011801;01189", "gemeente code"),
        ("9901AB;12;03630107;036301;0118", "does not belong"),
    ],
)
def test_a_broken_line_names_its_rule_not_its_contents(line: str, rule: str) -> None:
    message = parse_address(line, read_header(HEADER))
    assert isinstance(message, str)
    assert rule in message
    assert "9901" not in message


def test_addresses_fold_into_ranges_that_change_where_the_buurt_does() -> None:
    one_buurt = {n: "BU1" for n in (1, 2, 3, 7, 9)}
    assert fold(one_buurt) == [(1, 9, "BU1")]
    split = {1: "BU1", 3: "BU1", 5: "BU1", 21: "BU2", 23: "BU2", 41: "BU1"}
    assert fold(split) == [(1, 5, "BU1"), (21, 23, "BU2"), (41, 41, "BU1")]
    assert fold({}) == []
