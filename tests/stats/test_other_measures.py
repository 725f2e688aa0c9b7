"""Referral, assessment and initiative measures against small hand-computed datasets."""

from __future__ import annotations

from datetime import date, timedelta

import httpx

from tests.stats.data import Dataset, Place
from tests.stats.helpers import BELOW, COMPLEMENTARY, SMALL, codes, figures

YEAR = {"from": "2025-01-01", "to": "2025-12-31", "period": "year"}
Q1 = {"from": "2025-01-01", "to": "2025-03-31", "period": "quarter"}


async def test_inbound_referrals_by_partner_kind(client: httpx.AsyncClient, place: Place) -> None:
    gm, w1, w2, b0, _b1, b2, _b3 = codes(place)
    data = Dataset(place)
    debt, housing = await data.partner("debt_help"), await data.partner("housing")
    may = date(2025, 5, 20)
    await data.referrals(debt, 12, submitted=may, buurt=place.buurten[0])
    await data.referrals(housing, 3, submitted=may, buurt=place.buurten[0])
    await data.referrals(housing, 11, submitted=may, buurt=place.buurten[2])
    await data.referrals(housing, 4, submitted=may)  # not routed to a buurt: not counted
    households = await data.households(place.buurten[3], 10, registered=date(2025, 1, 1))
    await data.referrals(debt, 10, submitted=may, direction="outbound", households=households)  # outbound

    gemeente = await figures(client, place, "referrals_inbound", level="gemeente", **YEAR)
    assert gemeente[(gm, "2025", "total")] == (25, None)  # 26
    assert gemeente[(gm, "2025", "debt_help")] == (10, None)  # 12
    assert gemeente[(gm, "2025", "housing")] == (15, None)  # 14
    assert sum(1 for v in gemeente.values() if v == (None, BELOW)) == 7  # the other partner kinds
    wijken = await figures(client, place, "referrals_inbound", level="wijk", **YEAR)
    assert wijken[(w1, "2025", "total")] == (15, None)
    assert wijken[(w2, "2025", "total")] == (10, None)  # 11
    # debt_help: wijk 2 has none, so wijk 1 (12) is hidden; housing: wijk 1 has 3, so wijk 2 (11) is.
    assert wijken[(w1, "2025", "debt_help")] == (None, COMPLEMENTARY)
    assert wijken[(w2, "2025", "housing")] == (None, COMPLEMENTARY)
    assert wijken[(w1, "2025", "housing")] == (None, BELOW)
    buurten = await figures(client, place, "referrals_inbound", level="buurt", **YEAR)
    assert buurten[(b0, "2025", "total")] == (None, COMPLEMENTARY)  # b1 has none
    assert buurten[(b2, "2025", "total")] == (None, COMPLEMENTARY)  # b3 has none
    assert all(value is None for value, _ in buurten.values())


async def test_share_of_open_households_referred_to_specialist_care(
    client: httpx.AsyncClient, place: Place
) -> None:
    gm, w1, w2, b0, b1, b2, b3 = codes(place)
    data = Dataset(place)
    youth, mental, debt = (
        await data.partner("youth_care"),
        await data.partner("mental_health"),
        await data.partner("debt_help"),
    )
    opened, february = date(2024, 10, 1), date(2025, 2, 10)
    in_b0 = await data.households(place.buurten[0], 25, registered=opened)
    await data.households(place.buurten[1], 20, registered=opened)
    in_b2 = await data.households(place.buurten[2], 30, registered=opened)
    await data.households(place.buurten[3], 22, registered=opened)
    await data.referrals(youth, 12, submitted=february, direction="outbound", households=in_b0[:12])
    await data.referrals(mental, 10, submitted=february, direction="outbound", households=in_b2[:10])
    await data.referrals(youth, 1, submitted=february, direction="outbound", households=in_b2[:1])  # same one
    await data.referrals(
        youth, 2, submitted=february, direction="outbound", households=in_b2[10:12], status="declined"
    )
    await data.referrals(debt, 3, submitted=february, direction="outbound", households=in_b2[12:15])
    await data.referrals(youth, 5, submitted=date(2025, 4, 2), direction="outbound", households=in_b2[15:20])

    counts = await figures(client, place, "households_specialist_referral", level="wijk", **Q1)
    assert counts == {(w1, "2025-Q1", "total"): (10, None), (w2, "2025-Q1", "total"): (10, None)}  # 12, 10
    shares = await figures(client, place, "share_specialist_referral", level="wijk", **Q1)
    # From the published counts: 10 of 45 and 10 of 50 (true 12/45 and 10/52).
    assert shares == {(w1, "2025-Q1", "total"): (0.22, None), (w2, "2025-Q1", "total"): (0.2, None)}
    gemeente = await figures(client, place, "share_specialist_referral", level="gemeente", **Q1)
    assert gemeente == {(gm, "2025-Q1", "total"): (0.21, None)}  # 20 / 95 (true 22 / 97)
    buurten = await figures(client, place, "share_specialist_referral", level="buurt", **Q1)
    assert buurten == {
        (b0, "2025-Q1", "total"): (None, COMPLEMENTARY),  # 12, the partner of b1 (0)
        (b1, "2025-Q1", "total"): (None, BELOW),
        (b2, "2025-Q1", "total"): (None, COMPLEMENTARY),
        (b3, "2025-Q1", "total"): (None, BELOW),
    }


async def test_median_days_to_first_response(client: httpx.AsyncClient, place: Place) -> None:
    gm, w1, w2, b0, _b1, b2, _b3 = codes(place)
    data = Dataset(place)
    partner, march = await data.partner("gp"), date(2025, 3, 3)
    await data.referrals(
        partner, 10, submitted=march, buurt=place.buurten[0], answered_after=timedelta(days=1)
    )
    await data.referrals(
        partner, 10, submitted=march, buurt=place.buurten[0], answered_after=timedelta(days=2)
    )
    await data.referrals(
        partner, 5, submitted=march, buurt=place.buurten[2], answered_after=timedelta(days=3)
    )
    await data.referrals(partner, 4, submitted=march, buurt=place.buurten[2])  # not answered yet

    buurten = await figures(client, place, "days_to_first_response", level="buurt", **Q1)
    assert buurten[(b0, "2025-Q1", "total")] == (1.5, None)
    assert buurten[(b2, "2025-Q1", "total")] == (None, BELOW)
    wijken = await figures(client, place, "days_to_first_response", level="wijk", **Q1)
    assert wijken == {(w1, "2025-Q1", "total"): (1.5, None), (w2, "2025-Q1", "total"): (None, BELOW)}
    gemeente = await figures(client, place, "days_to_first_response", level="gemeente", **Q1)
    assert gemeente == {(gm, "2025-Q1", "total"): (2.0, None)}  # ten 1s, ten 2s, five 3s: the 13th


async def test_self_sufficiency_change_of_closed_households(client: httpx.AsyncClient, place: Place) -> None:
    gm, _w1, _w2, b0, b1, b2, _b3 = codes(place)
    data = Dataset(place)
    closed = await data.households(place.buurten[0], 20, registered=date(2024, 1, 1), closed=date(2025, 6, 1))
    for n, household in enumerate(closed):
        last = 4 if n < 10 else 3  # +2 for ten households, +1 for ten
        await data.scores(household, "finances", (date(2024, 1, 5), 2), (date(2025, 5, 1), last))
        await data.scores(household, "housing", (date(2024, 1, 5), 3))  # one score: no change
    few = await data.households(place.buurten[2], 12, registered=date(2024, 1, 1), closed=date(2025, 6, 1))
    for household in few:
        await data.scores(household, "finances", (date(2024, 2, 1), 1), (date(2025, 5, 1), 5))
    still_open = await data.households(place.buurten[1], 1, registered=date(2024, 1, 1))
    await data.scores(still_open[0], "finances", (date(2024, 2, 1), 1), (date(2025, 5, 1), 5))

    buurten = await figures(client, place, "self_sufficiency_change", level="buurt", **YEAR)
    assert buurten[(b0, "2025", "finances")] == (1.5, None)
    assert buurten[(b0, "2025", "housing")] == (None, BELOW)
    assert buurten[(b2, "2025", "finances")] == (None, SMALL)  # 12 households
    assert buurten[(b1, "2025", "finances")] == (None, BELOW)  # open: not counted
    gemeente = await figures(client, place, "self_sufficiency_change", level="gemeente", **YEAR)
    # (10 * 2 + 10 * 1 + 12 * 4) / 32 = 2.4375
    assert gemeente[(gm, "2025", "finances")] == (2.4, None)
    assert (gm, "2025", "total") not in gemeente


async def test_initiative_measures(client: httpx.AsyncClient, place: Place) -> None:
    gm, w1, w2, b0, _b1, _b2, _b3 = codes(place)
    data = Dataset(place)
    network, plan = await data.network()
    june = date(2025, 6, 10)
    done = await data.initiatives(
        network, place.buurten[0], 10, created=june, status="completed", participants=5, themes=["debts"]
    )
    await data.initiatives(network, place.buurten[0], 2, created=june, status="rejected")
    await data.initiatives(network, place.buurten[2], 3, created=june, status="idea", themes=["debts"])
    extra = await data.initiatives(
        network, place.buurten[0], 1, created=june, status="running", themes=["debts"]
    )
    await data.grants(plan, [*done, *extra], 15_040, date(2025, 7, 1))

    counts = await figures(client, place, "initiatives", level="gemeente", **YEAR)
    assert counts[(gm, "2025", "total")] == (15, None)  # 16
    assert counts[(gm, "2025", "completed")] == (10, None)
    assert counts[(gm, "2025", "rejected")] == (None, BELOW)
    wijken = await figures(client, place, "initiatives", level="wijk", **YEAR)
    assert wijken[(w1, "2025", "total")] == (None, COMPLEMENTARY)  # 13, partner of wijk 2's 3
    assert wijken[(w2, "2025", "total")] == (None, BELOW)

    participants = await figures(client, place, "initiative_participants", level="gemeente", **YEAR)
    assert participants[(gm, "2025", "total")] == (50, None)
    assert participants[(gm, "2025", "completed")] == (50, None)
    assert participants[(gm, "2025", "rejected")] == (None, BELOW)

    granted = await figures(client, place, "initiative_budget_granted", level="gemeente", **YEAR)
    assert granted[(gm, "2025", "debts")] == (1654, None)  # 11 grants of 150.40 euros
    assert granted[(gm, "2025", "loneliness")] == (None, BELOW)
    by_buurt = await figures(client, place, "initiative_budget_granted", level="buurt", **YEAR)
    assert by_buurt[(b0, "2025", "debts")] == (None, COMPLEMENTARY)  # b1 has none
