"""The bare SQL for each measure: the same raw figures (every buurt x each quarter of the range, per
category) straight from the case tables, as an analyst with database access would write them — no
rollups, no disclosure control, no HTTP. The benchmark runs these with asyncpg next to the service.

Parameters: $1 municipality id, $2 first local day, $3 the day after the last, $4 quarter starts
(date[]), $5 quarter ends (date[], exclusive).
"""

from __future__ import annotations

TZ = "'Europe/Amsterdam'"
_BUURTEN = "JOIN areas b ON b.id = {alias}.buurt_id AND b.municipality_id = $1"
_QUARTERS = "unnest($4::date[], $5::date[]) AS p(start_on, end_on)"


def _in_range(when: str) -> str:
    start, end = (f"(${n}::date)::timestamp AT TIME ZONE {TZ}" for n in (2, 3))
    return f"{when} >= {start} AND {when} < {end}"


def _flow(
    table: str, alias: str, when: str, category: str, extra: str = "", amount: str = "NULL::numeric"
) -> str:
    return f"""
SELECT {alias}.buurt_id, date_trunc('quarter', {when} AT TIME ZONE {TZ})::date AS quarter, {category} AS cat,
       count(*) AS n, sum({amount}) AS amount
FROM {table} {_BUURTEN.format(alias=alias)}
WHERE {_in_range(when)} {extra}
GROUP BY 1, 2, 3"""


_ACTIVE = f"""
SELECT h.buurt_id, p.start_on, count(*) AS n
FROM households h {_BUURTEN.format(alias="h")}
JOIN {_QUARTERS} ON (h.registered_at AT TIME ZONE {TZ})::date < p.end_on
 AND (h.closed_at IS NULL OR (h.closed_at AT TIME ZONE {TZ})::date >= p.start_on)
GROUP BY 1, 2"""

_SPECIALIST = f"""
SELECT h.buurt_id, p.start_on, count(DISTINCT h.id) AS n
FROM referrals r
JOIN households h ON h.id = r.household_id {_BUURTEN.format(alias="h")}
JOIN partner_organisations o ON o.id = r.organisation_id
JOIN {_QUARTERS} ON (r.created_at AT TIME ZONE {TZ})::date >= p.start_on
 AND (r.created_at AT TIME ZONE {TZ})::date < p.end_on
WHERE r.direction = 'outbound' AND o.kind IN ('youth_care', 'mental_health')
  AND r.status NOT IN ('declined', 'cancelled')
  AND h.registered_at <= r.created_at AND (h.closed_at IS NULL OR h.closed_at >= r.created_at)
GROUP BY 1, 2"""

_PLAN_ACTIONS = f"""
SELECT h.buurt_id, p.start_on,
       CASE WHEN a.performer_kind IN ('household', 'network_member', 'volunteer') THEN 'informal'
            ELSE 'professional' END,
       count(*) AS n, count(DISTINCT h.id) AS households
FROM plan_actions a
JOIN plans pl ON pl.id = a.plan_id
JOIN households h ON h.id = pl.household_id {_BUURTEN.format(alias="h")}
JOIN {_QUARTERS}
  ON (GREATEST(h.registered_at, pl.created_at) AT TIME ZONE {TZ})::date < p.end_on
 AND (h.closed_at IS NULL OR (h.closed_at AT TIME ZONE {TZ})::date >= p.start_on)
 AND (pl.superseded_at IS NULL OR (pl.superseded_at AT TIME ZONE {TZ})::date >= p.end_on)
GROUP BY 1, 2, ROLLUP(3)"""

_GRANT_THEMES = (
    "initiative_grants g JOIN initiatives i ON i.id = g.initiative_id"
    " CROSS JOIN LATERAL unnest(i.themes) th(theme)"
)

BARE: dict[str, str] = {
    "households_registered": _flow("households h", "h", "h.registered_at", "'total'"),
    "households_active": _ACTIVE,
    "households_closed": _flow("households h", "h", "h.closed_at", "h.closing_reason"),
    "households_by_theme": f"""
SELECT h.buurt_id, p.start_on, t.theme_code, count(*) AS n
FROM households h {_BUURTEN.format(alias="h")}
JOIN household_themes t ON t.household_id = h.id
JOIN {_QUARTERS} ON (GREATEST(h.registered_at, t.added_at) AT TIME ZONE {TZ})::date < p.end_on
 AND (h.closed_at IS NULL OR (h.closed_at AT TIME ZONE {TZ})::date >= p.start_on)
GROUP BY 1, 2, 3""",
    "days_to_first_contact": f"""
SELECT h.buurt_id, date_trunc('quarter', h.registered_at AT TIME ZONE {TZ})::date, count(*),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY GREATEST(0, (fc.first_at AT TIME ZONE {TZ})::date
                                                             - (h.registered_at AT TIME ZONE {TZ})::date))
FROM households h {_BUURTEN.format(alias="h")}
JOIN (SELECT household_id, min(occurred_at) AS first_at FROM contact_moments GROUP BY household_id) fc
  ON fc.household_id = h.id
WHERE {_in_range("h.registered_at")}
GROUP BY 1, 2""",
    "referrals_inbound": _flow(
        "referrals r JOIN partner_organisations o ON o.id = r.organisation_id",
        "r",
        "r.created_at",
        "o.kind",
        "AND r.direction = 'inbound'",
    ),
    "households_specialist_referral": _SPECIALIST,
    "share_specialist_referral": f"""
SELECT * FROM ({_SPECIALIST}) s FULL JOIN ({_ACTIVE}) a USING (buurt_id, start_on)""",
    "days_to_first_response": f"""
SELECT COALESCE(r.buurt_id, h.buurt_id) AS buurt, date_trunc('quarter', r.created_at AT TIME ZONE {TZ})::date,
       count(*),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM fr.first_at - r.created_at) / 86400.0)
FROM referrals r
LEFT JOIN households h ON h.id = r.household_id
JOIN areas b ON b.id = COALESCE(r.buurt_id, h.buurt_id) AND b.municipality_id = $1
JOIN (SELECT referral_id, side, min(occurred_at) AS first_at FROM referral_transitions
      WHERE from_status IS NOT NULL GROUP BY referral_id, side) fr
  ON fr.referral_id = r.id AND fr.side = CASE r.direction WHEN 'inbound' THEN 'team' ELSE 'partner' END
WHERE {_in_range("r.created_at")}
GROUP BY 1, 2""",
    "self_sufficiency_change": f"""
SELECT h.buurt_id, date_trunc('quarter', h.closed_at AT TIME ZONE {TZ})::date, se.domain_code,
       count(DISTINCT h.id), avg(se.last_score - se.first_score)
FROM households h {_BUURTEN.format(alias="h")}
JOIN (
    SELECT household_id, member_id, domain_code, first_score, last_score FROM (
        SELECT a.household_id, a.member_id, s.domain_code,
               first_value(s.score) OVER w AS first_score, last_value(s.score) OVER w AS last_score,
               row_number() OVER w AS position, count(*) OVER w AS scored
        FROM assessments a
        JOIN assessment_scores s ON s.assessment_id = a.id
        JOIN households sh ON sh.id = a.household_id
        WHERE {_in_range("sh.closed_at")}
        WINDOW w AS (PARTITION BY a.household_id, a.member_id, s.domain_code
                     ORDER BY a.assessed_on, a.created_at, a.id
                     ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
    ) ranked WHERE position = 1 AND scored >= 2
) se ON se.household_id = h.id
GROUP BY 1, 2, 3""",
    "plan_actions": _PLAN_ACTIONS,
    "share_informal_plan_actions": _PLAN_ACTIONS,
    "initiatives": _flow("initiatives i", "i", "i.created_at", "i.status"),
    "initiative_participants": _flow(
        "initiatives i", "i", "i.created_at", "i.status", amount="i.participants_reached"
    ),
    "initiative_budget_granted": _flow(
        _GRANT_THEMES,
        "i",
        "g.decided_at",
        "th.theme",
        "AND g.decision = 'granted'",
        amount="g.amount_cents / 100.0",
    ),
    "initiative_budget_spent": _flow(
        _GRANT_THEMES,
        "i",
        "g.decided_at",
        "th.theme",
        "AND g.decision = 'granted'",
        amount="i.spent_cents / 100.0",
    ),
}
