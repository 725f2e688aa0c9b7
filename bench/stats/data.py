"""The statistics benchmark's municipality: the demo data at 100k households, made realistic for figures.

``wijkwerk demo-data --households 100000`` gives the case load (households, members, ~1M contact
moments, themes, assessments, plans with ~300k actions), but in six buurten, with every closing in the
last 60 days and only a few dozen referrals and initiatives. ``scale`` then, in SQL and once:

* spreads the households over 100 buurten in 10 wijken (the demo's two wijken plus eight more);
* moves each closing to a point between registration and now;
* adds partner organisations of every kind, ~20k referrals (inbound and outbound) with their first
  answer, 12 resident networks over the buurten with year plans, and ~5k initiatives with grants,
  participants and amounts spent.

Every pseudo-random choice is a hash of the row's id (``_draw``), so a run is repeatable on one
database. Only this benchmark's own data dir is touched.
"""

from __future__ import annotations

from typing import Any

WIJKEN = 10
BUURTEN_PER_WIJK = 10
REFERRALS = 20_000
INITIATIVES = 5_000
NETWORKS = 12
PARTNER_KINDS = ("gp", "school", "youth_care", "mental_health", "welfare", "police", "other")


def _draw(column: str, salt: str) -> str:
    """A number in [0, 1) fixed by the row's id and a salt."""
    return f"((hashtext({column}::text || '{salt}')::bigint + 2147483648) / 4294967296.0)"


_AREAS = f"""
WITH m AS (SELECT id FROM municipalities WHERE code = 'GM9999'),
wijken AS (
    INSERT INTO areas (id, municipality_id, code, name, level)
    SELECT gen_random_uuid(), m.id, 'WK9999' || lpad(w::text, 2, '0'), 'Wijk ' || w, 'wijk'
    FROM m, generate_series(3, {WIJKEN}) w
    RETURNING id, code
),
every_wijk AS (
    SELECT id, code FROM wijken
    UNION ALL SELECT id, code FROM areas WHERE code IN ('WK999901', 'WK999902')
)
INSERT INTO areas (id, municipality_id, parent_id, code, name, level)
SELECT gen_random_uuid(), (SELECT id FROM m), w.id,
       'BU' || substr(w.code, 3) || lpad(b::text, 2, '0'), 'Buurt ' || substr(w.code, 7) || '-' || b, 'buurt'
FROM every_wijk w, generate_series(1, {BUURTEN_PER_WIJK}) b
ON CONFLICT (code) DO NOTHING
"""

_HOUSEHOLDS = f"""
WITH buurten AS (
    SELECT id, row_number() OVER (ORDER BY code) - 1 AS n FROM areas
    WHERE level = 'buurt' AND code LIKE 'BU9999%'
),
moved AS (
    SELECT h.id, b.id AS buurt_id,
           h.registered_at + {_draw("h.id", "closed")} * (now() - h.registered_at) AS closed_at
    FROM households h
    JOIN buurten b ON b.n = floor({_draw("h.id", "buurt")} * {WIJKEN * BUURTEN_PER_WIJK})
)
UPDATE households h
SET buurt_id = moved.buurt_id, closed_at = CASE WHEN h.closed_at IS NULL THEN NULL ELSE moved.closed_at END
FROM moved WHERE moved.id = h.id
"""

_PARTNERS = f"""
INSERT INTO partner_organisations (id, name, kind)
SELECT gen_random_uuid(), 'Bench partner ' || k, k FROM unnest(ARRAY{list(PARTNER_KINDS)}::text[]) k
"""

_REFERRALS = f"""
WITH partners AS (
    SELECT id, row_number() OVER (ORDER BY kind, id) - 1 AS n FROM partner_organisations
),
buurten AS (
    SELECT id, row_number() OVER (ORDER BY code) - 1 AS n FROM areas
    WHERE level = 'buurt' AND code LIKE 'BU9999%'
),
open_households AS (
    SELECT id, team_id, registered_at, row_number() OVER (ORDER BY id) - 1 AS n
    FROM households WHERE status IN ('active', 'aftercare', 'closed')
),
sizes AS (
    SELECT (SELECT count(*) FROM partners) AS partners, (SELECT count(*) FROM open_households) AS homes
),
drawn AS (
    SELECT d.id, d.inbound,
           floor({_draw("d.id", "partner")} * sizes.partners) AS partner_n,
           floor({_draw("d.id", "household")} * sizes.homes) AS household_n,
           floor({_draw("d.id", "buurt")} * {WIJKEN * BUURTEN_PER_WIJK}) AS buurt_n,
           (ARRAY['submitted','accepted','declined','in_progress','completed','cancelled'])
               [1 + floor({_draw("d.id", "status")} * 6)::int] AS status,
           {_draw("d.id", "when")} AS at_fraction
    FROM (SELECT gen_random_uuid() AS id, (i % 5 < 3) AS inbound FROM generate_series(1, {REFERRALS}) i) d,
         sizes
)
INSERT INTO referrals (id, direction, status, organisation_id, team_id, buurt_id, household_id, given_name,
                       reason_domain, urgency, legal_basis, status_reason, outcome, created_at, updated_at)
SELECT d.id,
       CASE WHEN d.inbound THEN 'inbound' ELSE 'outbound' END,
       d.status,
       p.id,
       h.team_id,
       CASE WHEN d.inbound THEN b.id END,
       CASE WHEN d.inbound THEN NULL ELSE h.id END,
       'Bench',
       'finances',
       'routine',
       CASE WHEN d.inbound THEN 'legal_duty' ELSE 'consent' END,
       CASE WHEN d.status IN ('declined', 'cancelled') THEN 'bench' END,
       CASE WHEN d.status = 'completed' THEN 'bench' END,
       h.registered_at + d.at_fraction * (now() - h.registered_at),
       h.registered_at + d.at_fraction * (now() - h.registered_at)
FROM drawn d
JOIN partners p ON p.n = d.partner_n
JOIN open_households h ON h.n = d.household_n
JOIN buurten b ON b.n = d.buurt_n
"""

_TRANSITIONS = f"""
INSERT INTO referral_transitions (id, referral_id, from_status, to_status, side, actor_subject, occurred_at)
SELECT gen_random_uuid(), r.id, NULL, 'submitted',
       CASE r.direction WHEN 'inbound' THEN 'partner' ELSE 'team' END, 'bench', r.created_at
FROM referrals r WHERE r.given_name = 'Bench'
UNION ALL
SELECT gen_random_uuid(), r.id, 'submitted',
       CASE r.status WHEN 'declined' THEN 'declined' ELSE 'accepted' END,
       CASE r.direction WHEN 'inbound' THEN 'team' ELSE 'partner' END, 'bench',
       r.created_at + {_draw("r.id", "answer")} * interval '21 days'
FROM referrals r WHERE r.given_name = 'Bench' AND r.status NOT IN ('submitted', 'cancelled')
"""

_NETWORKS = f"""
WITH m AS (SELECT id FROM municipalities WHERE code = 'GM9999')
INSERT INTO resident_networks (id, municipality_id, name)
SELECT gen_random_uuid(), m.id, 'Bench netwerk ' || lpad(n::text, 2, '0')
FROM m, generate_series(1, {NETWORKS}) n
"""

_NETWORK_AREAS = """
WITH networks AS (
    SELECT id, row_number() OVER (ORDER BY name) - 1 AS n, count(*) OVER () AS total
    FROM resident_networks WHERE name LIKE 'Bench netwerk%'
),
buurten AS (SELECT id, row_number() OVER (ORDER BY code) - 1 AS n FROM areas
            WHERE level = 'buurt' AND code LIKE 'BU9999%')
INSERT INTO network_areas (network_id, area_id)
SELECT nw.id, b.id FROM buurten b JOIN networks nw ON nw.n = b.n % nw.total
"""

_YEAR_PLANS = """
INSERT INTO year_plans (id, network_id, year, priorities, budget_cents, granted_cents)
SELECT gen_random_uuid(), nw.id, y, ARRAY['debts', 'loneliness'], 100000000, 0
FROM resident_networks nw, generate_series(2023, 2026) y WHERE nw.name LIKE 'Bench netwerk%'
"""

_INITIATIVES = f"""
WITH served AS (
    SELECT na.network_id, na.area_id, row_number() OVER (ORDER BY na.area_id, na.network_id) - 1 AS n,
           count(*) OVER () AS total
    FROM network_areas na JOIN resident_networks nw ON nw.id = na.network_id
    WHERE nw.name LIKE 'Bench netwerk%'
),
themes AS (SELECT array_agg(code ORDER BY code) AS codes FROM themes),
drawn AS (SELECT gen_random_uuid() AS id FROM generate_series(1, {INITIATIVES}))
INSERT INTO initiatives (id, network_id, buurt_id, year_plan_id, title, summary, themes, status,
                         initiator_name, requested_cents, granted_cents, spent_cents, participants_reached,
                         created_at, updated_at)
SELECT d.id, s.network_id, s.area_id, yp.id, 'Bench initiative', 'Bench',
       ARRAY[t.codes[1 + floor({_draw("d.id", "theme1")} * 13)::int],
             t.codes[1 + floor({_draw("d.id", "theme2")} * 13)::int]],
       st.status, 'Bench',
       CASE WHEN st.status <> 'idea' THEN 50000 END,
       CASE WHEN st.status IN ('granted', 'running', 'completed') THEN 40000 END,
       CASE WHEN st.status = 'completed' THEN floor({_draw("d.id", "spent")} * 40000)::bigint END,
       CASE WHEN st.status = 'completed' THEN 5 + floor({_draw("d.id", "people")} * 100)::int END,
       c.at, c.at
FROM drawn d
CROSS JOIN themes t
CROSS JOIN LATERAL (SELECT * FROM served s WHERE s.n = floor({_draw("d.id", "where")} * s.total)) s
CROSS JOIN LATERAL (SELECT timestamptz '2023-12-01'
                           + {_draw("d.id", "when")} * (now() - timestamptz '2023-12-01') AS at) c
CROSS JOIN LATERAL (SELECT (ARRAY['idea','requested','granted','rejected','running','completed'])
                    [1 + floor({_draw("d.id", "status")} * 6)::int] AS status) st
LEFT JOIN year_plans yp ON yp.network_id = s.network_id
     AND yp.year = extract(year FROM c.at AT TIME ZONE 'Europe/Amsterdam')::int AND st.status <> 'idea'
"""

_GRANTS = f"""
INSERT INTO initiative_grants (id, initiative_id, year_plan_id, decision, amount_cents, reason, decided_at)
SELECT gen_random_uuid(), i.id, i.year_plan_id,
       CASE WHEN i.status = 'rejected' THEN 'rejected' ELSE 'granted' END,
       CASE WHEN i.status = 'rejected' THEN 0 ELSE 40000 END, 'bench',
       LEAST(now(), i.created_at + {_draw("i.id", "decided")} * interval '60 days')
FROM initiatives i
WHERE i.title = 'Bench initiative' AND i.status IN ('granted', 'rejected', 'running', 'completed')
  AND i.year_plan_id IS NOT NULL
"""

STEPS = [
    ("areas", _AREAS),
    ("households", _HOUSEHOLDS),
    ("partners", _PARTNERS),
    ("referrals", _REFERRALS),
    ("referral transitions", _TRANSITIONS),
    ("networks", _NETWORKS),
    ("network areas", _NETWORK_AREAS),
    ("year plans", _YEAR_PLANS),
    ("initiatives", _INITIATIVES),
    ("grants", _GRANTS),
]


async def scale(conn: Any, log: Any = print) -> bool:
    """Apply the steps once (in one transaction); False when the data was scaled before."""
    done = await conn.fetchval("SELECT count(*) FROM areas WHERE code LIKE 'BU9999%'")
    if done >= WIJKEN * BUURTEN_PER_WIJK:
        return False
    async with conn.transaction():
        for name, sql in STEPS:
            status = await conn.execute(sql)
            log(f"  {name}: {status}")
    await conn.execute("ANALYZE")
    return True
