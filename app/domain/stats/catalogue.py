"""The fixed catalogue of measures: what each figure means. The SQL for each is in repository.py.

Only these measures, broken down only by area (buurt, wijk, gemeente; resident network for the
initiative measures), calendar period (month, quarter, year) and the one category listed with a
measure: no free filters, no person-level rows. ``source`` names the rows of the rollups (migration
0061) a measure is read from.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from app.domain.households.models import ClosingReason
from app.domain.initiatives.models import InitiativeStatus
from app.domain.organisation.models import PartnerKind

TOTAL = "total"


class Level(StrEnum):
    buurt = "buurt"
    wijk = "wijk"
    gemeente = "gemeente"
    network = "network"  # a resident network: initiative measures only (networks are not areas)
    team = "team"  # a neighbourhood team: the administrative-burden measures (teams are not areas)


AREA_LEVELS = (Level.buurt, Level.wijk, Level.gemeente)


class Kind(StrEnum):
    flow = "flow"  # events in the period: months add up to quarters, quarters to the year
    stock = "stock"  # what existed during the period: periods do not add up
    median = "median"  # the median of a value over the members of a group
    mean = "mean"  # the mean of a value over the members of a group
    ratio = "ratio"  # a share, from the published counts of two stock measures
    amount = "amount"  # a sum of public amounts, published where the group's count is
    quartiles = "quartiles"  # the median and spread (first and third quartile) of a value per group


@dataclass(frozen=True)
class Breakdown:
    """The one category a measure is broken down by."""

    name: str
    description: str
    values: tuple[str, ...] = ()  # a fixed list, or empty when it comes from a reference table
    reference: str | None = None  # "themes" or "life_domains": configurable lists
    total: bool = False  # categories add up, and a "total" row is published as well


@dataclass(frozen=True)
class Measure:
    id: str
    title: str
    definition: str
    unit: str
    kind: Kind
    breakdown: Breakdown | None = None
    source: str = ""  # the rollup rows it is read from (ratios: none)
    value: str | None = None  # amounts: the rollup sum it publishes ("sum_1" or "sum_2")
    numerator: str | None = None  # ratios: "measure" or "measure:category" of two stock counts
    denominator: str | None = None
    digits: int = 0  # decimals of medians, means and ratios
    networks: bool = False  # also per resident network (the gemeente is the sum of its networks)
    groups: bool = False  # counts actions, protects households: a cell needs that many of them too
    distinct: bool = False  # statistics: a group's size counts distinct households, not rows
    teams: bool = False  # also per neighbourhood team (the team of the household)

    @property
    def count_kind(self) -> bool:
        return self.kind in (Kind.flow, Kind.stock)

    @property
    def levels(self) -> list[Level]:
        extra = [Level.network] if self.networks else [Level.team] if self.teams else []
        return [*AREA_LEVELS, *extra]


def part(reference: str) -> tuple[str, str]:
    """``"measure:category"`` -> (measure, category); the category defaults to the total."""
    measure, _, category = reference.partition(":")
    return measure, category or TOTAL


CLOSING_REASON = Breakdown(
    "closing_reason", "Why the case file was closed.", tuple(ClosingReason), total=True
)
PARTNER_KIND = Breakdown("partner_kind", "The kind of partner organisation.", tuple(PartnerKind), total=True)
THEME = Breakdown(
    "theme",
    "A recurring question (debts, loneliness, ...), from the configurable theme list. One household or "
    "initiative can carry several themes, so themes do not add up and there is no total.",
    reference="themes",
)
LIFE_DOMAIN = Breakdown(
    "life_domain",
    "A domain of the 1-5 self-sufficiency scale, from the configurable list.",
    reference="life_domains",
)
INITIATIVE_STATUS = Breakdown(
    "status", "The initiative's current status.", tuple(InitiativeStatus), total=True
)
PERFORMER = Breakdown(
    "performer",
    "Who carries a plan action: 'informal' (the household itself, a person of its informal network, a "
    "volunteer) or 'professional' (a worker of the team, a partner organisation through a referral).",
    ("informal", "professional"),
    total=True,
)

STATISTIC = Breakdown(
    "statistic",
    "The median of the group, and its spread: the first (p25) and third (p75) quartile. Each is "
    "published for groups of at least the minimum denominator of households.",
    ("p25", "median", "p75"),
)


def _burden(id: str, title: str, definition: str, unit: str, digits: int = 0) -> Measure:
    """A measure of the administrative burden: quartiles per household, also per team."""
    return Measure(
        id,
        title,
        definition,
        unit,
        Kind.quartiles,
        STATISTIC,
        source=id,
        digits=digits,
        distinct=True,
        teams=True,
    )


_MEASURES = [
    Measure(
        "households_registered",
        "Households registered",
        "Households registered with a neighbourhood team in the period (local date of registration), "
        "by the buurt of the household's address.",
        "households",
        Kind.flow,
        source="registered",
    ),
    Measure(
        "households_active",
        "Households with an open case file",
        "Households whose case file was open at any time in the period: registered on or before the "
        "period's last day and not closed before its first day (every status but 'closed').",
        "households",
        Kind.stock,
        source="active",
    ),
    Measure(
        "households_closed",
        "Households closed, by closing reason",
        "Households whose case file was closed in the period (local date of closing), by closing reason.",
        "households",
        Kind.flow,
        CLOSING_REASON,
        source="closed",
    ),
    Measure(
        "households_by_theme",
        "Households per theme",
        "Households whose case file was open at any time in the period and that carried the theme by "
        "the period's last day (themes are used for collectivisation: recurring questions).",
        "households",
        Kind.stock,
        THEME,
        source="themes",
    ),
    Measure(
        "days_to_first_contact",
        "Median days from registration to first contact",
        "For households registered in the period that have had a contact moment: the median number of "
        "calendar days between the registration date and the date of the first contact moment.",
        "days",
        Kind.median,
        source="first_contact",
    ),
    Measure(
        "referrals_inbound",
        "Inbound referrals, by partner kind",
        "Referrals submitted by partner organisations to a team in the period (local date of "
        "submission), by the kind of the sending partner; only referrals routed to a buurt.",
        "referrals",
        Kind.flow,
        PARTNER_KIND,
        source="inbound_referrals",
    ),
    Measure(
        "households_specialist_referral",
        "Households referred to specialist care",
        "Households with an open case file that had an outbound referral to specialist care (a partner "
        "of kind youth_care or mental_health) submitted in the period and not declined or cancelled.",
        "households",
        Kind.stock,
        source="specialist",
    ),
    Measure(
        "share_specialist_referral",
        "Share of open households referred to specialist care",
        "households_specialist_referral divided by households_active for the same area and period "
        "(the '5' of 80-20-5), computed from the two published (rounded) counts.",
        "share",
        Kind.ratio,
        numerator="households_specialist_referral",
        denominator="households_active",
        digits=2,
    ),
    Measure(
        "days_to_first_response",
        "Median days from referral to first response",
        "For referrals submitted in the period that have been answered: the median time in days (one "
        "decimal) from submission to the first status change by the receiving side (the team for "
        "inbound referrals, the partner for outbound ones), by the buurt of the referral or household.",
        "days",
        Kind.median,
        source="first_response",
        digits=1,
    ),
    Measure(
        "self_sufficiency_change",
        "Change in self-sufficiency per life domain",
        "For households whose case file was closed in the period: the mean change (one decimal) of the "
        "1-5 score per life domain between the first and the last assessment that scored the domain, "
        "over every household or member scored at least twice; groups count households.",
        "score points",
        Kind.mean,
        LIFE_DOMAIN,
        source="self_sufficiency",
        digits=1,
        distinct=True,
    ),
    Measure(
        "plan_actions",
        "Plan actions, by who carries them",
        "The actions of the plans in force at the period's end (the version agreed most recently on or "
        "before its last day) of households whose case file was open at any time in the period, by who "
        "carries them. A figure is published only when both the actions and the households behind it "
        "reach the threshold.",
        "actions",
        Kind.stock,
        PERFORMER,
        source="plan_actions",
        groups=True,
    ),
    Measure(
        "share_informal_plan_actions",
        "Share of plan actions carried by the household or its informal network",
        "plan_actions of performer 'informal' divided by all plan_actions for the same area and period "
        "(the household itself, its informal network and volunteers versus professionals), computed from "
        "the two published (rounded) counts.",
        "share",
        Kind.ratio,
        numerator="plan_actions:informal",
        denominator="plan_actions",
        digits=2,
    ),
    Measure(
        "initiatives",
        "Resident initiatives, by status",
        "Resident initiatives proposed in the period (local date of creation) in a buurt, by their "
        "current status; also per resident network.",
        "initiatives",
        Kind.flow,
        INITIATIVE_STATUS,
        source="initiatives",
        networks=True,
    ),
    Measure(
        "initiative_participants",
        "Participants reached by resident initiatives",
        "The sum of the participants reached that initiatives proposed in the period reported, by "
        "current status; published where the number of initiatives behind it is; also per network.",
        "participants",
        Kind.amount,
        INITIATIVE_STATUS,
        source="initiatives",
        value="sum_1",
        networks=True,
    ),
    Measure(
        "initiative_budget_granted",
        "Budget granted to resident initiatives, by theme",
        "The sum in whole euros of the grants that resident networks decided in the period (local date "
        "of the decision) for initiatives in a buurt, by the initiative's themes; published where the "
        "number of grants behind it is; also per network.",
        "euros",
        Kind.amount,
        THEME,
        source="grants",
        value="sum_1",
        networks=True,
    ),
    Measure(
        "initiative_budget_spent",
        "Budget spent by resident initiatives, by theme",
        "Of the grants decided in the period (as initiative_budget_granted), the sum in whole euros the "
        "initiatives reported spending in their closing report (nothing until they report), by the "
        "initiative's themes; published where the number of grants behind it is; also per network.",
        "euros",
        Kind.amount,
        THEME,
        source="grants",
        value="sum_2",
        networks=True,
    ),
]

# The administrative burden, recorded as a side effect of use (app/domain/unit_of_work/burden.py).
_MEASURES += [
    _burden(
        "intake_requests",
        "Write requests from first contact to an agreed plan",
        "For households whose first plan was agreed in the period (local date of the agreement): the "
        "requests of team workers that wrote the household's case data from its registration up to and "
        "including the one that recorded the agreement; median and quartiles.",
        "requests",
    ),
    _burden(
        "intake_fields",
        "Fields entered from first contact to an agreed plan",
        "For the same households: the fields those requests carried (every value sent that is not "
        "empty); median and quartiles.",
        "fields",
    ),
    _burden(
        "days_to_agreed_plan",
        "Days from first contact to an agreed plan",
        "For the same households: calendar days from the first contact (registration or the first "
        "contact moment, whichever came first) to the first agreed plan; median and quartiles.",
        "days",
    ),
    _burden(
        "monthly_write_requests",
        "Write requests per household per month",
        "Per household and calendar month in the period with case work: the team's requests that "
        "wrote its case data that month; median and quartiles over the households' months.",
        "requests",
    ),
    _burden(
        "monthly_contact_minutes",
        "Contact minutes per household per month",
        "Per household and calendar month in the period with contact moments: the minutes recorded on "
        "them; median and quartiles over the households' months.",
        "minutes",
    ),
    _burden(
        "writes_per_contact_hour",
        "Write requests per hour of contact",
        "Per household and calendar month with contact minutes recorded: the write requests of that "
        "month per hour of contact (time at the form against time with the household); median and "
        "quartiles, one decimal.",
        "requests per hour",
        digits=1,
    ),
]

# From the individual question to the collective answer (the sociale kaart, resident initiatives).
_OFFER = (
    "a matching offer in their buurt: an active service of the sociale kaart carrying the theme that serves "
    "the buurt (offered at a place in it, or for the buurt, its wijk or the whole municipality), or a "
    "running resident initiative of the buurt carrying it; as the directory and the initiatives stand "
    "when the figures were made (the directory keeps no history)"
)
_MEASURES += [
    Measure(
        "households_by_theme_with_offer",
        "Households per theme with a matching offer in their buurt",
        f"Of households_by_theme: the households with {_OFFER}. Also per team.",
        "households",
        Kind.stock,
        THEME,
        source="themes_with_offer",
        teams=True,
    ),
    Measure(
        "households_by_theme_without_offer",
        "Households per theme without a matching offer in their buurt",
        f"Of households_by_theme: the households without {_OFFER}. Where a collective answer is missing. "
        "Also per team.",
        "households",
        Kind.stock,
        THEME,
        source="themes_without_offer",
        teams=True,
    ),
    Measure(
        "plan_actions_collective",
        "Plan actions carried by collective initiatives",
        "The actions of the plans in force at the period's end (as plan_actions) that the household, a "
        "network member or a volunteer carries by joining a resident initiative (the action names it). "
        "A figure is published only when both the actions and the households behind it reach the threshold. "
        "Also per team.",
        "actions",
        Kind.stock,
        source="collective_actions",
        groups=True,
        teams=True,
    ),
]

CATALOGUE: dict[str, Measure] = {m.id: m for m in _MEASURES}
