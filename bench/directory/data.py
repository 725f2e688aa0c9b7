"""A sociale kaart of 5,000 services at 20,000 locations, made by set-based SQL (generate_series), not
through the API, on top of the demo (municipality GM9999, its themes and life domains).

* 20 more wijken of 10 buurten each (WK999910..29, BU99991001..), so the locations spread over 206
  buurten as in a mid-sized municipality;
* 500 organisations; 20,000 locations, each of one organisation, in a buurt;
* 5,000 services, each of one organisation and at 4 of its locations: a name and description of
  Dutch words (so the Dutch full-text search has something to rank), one or two themes, a life
  domain, ages, free or not; 90% public, 2% defunct;
* service areas: 30% serve the wijk of their first location, 10% the whole municipality, 20% a buurt;
  2 opening hours each.

Idempotent: nothing is added when the organisations are there already (by their name prefix).
"""

from __future__ import annotations

from collections.abc import Callable

import asyncpg

PREFIX = "Bench organisatie"
SERVICES, LOCATIONS, ORGANIZATIONS = 5_000, 20_000, 500

WORDS = [
    *("schulden", "budget", "administratie", "geldzaken", "armoede", "eenzaamheid", "ontmoeting"),
    *("buurtkamer", "opvoeding", "jeugd", "gezin", "ouders", "wonen", "huur", "woning", "werk"),
    *("vrijwilligers", "taal", "inburgering", "gezondheid", "beweging", "mantelzorg", "ondersteuning"),
    *("verslaving", "zorg", "maaltijd", "vervoer", "digitaal", "formulieren", "toeslagen", "buddy"),
]

AREAS = """
INSERT INTO areas (id, municipality_id, parent_id, code, name, level)
SELECT gen_random_uuid(), m.id, NULL, 'WK9999' || w, 'Benchwijk ' || w, 'wijk'
FROM municipalities m, generate_series(10, 29) AS w
WHERE m.code = 'GM9999' AND NOT EXISTS (SELECT 1 FROM areas WHERE code = 'WK9999' || w);

INSERT INTO areas (id, municipality_id, parent_id, code, name, level)
SELECT gen_random_uuid(), wk.municipality_id, wk.id, 'BU' || substr(wk.code, 3) || lpad(b::text, 2, '0'),
       'Benchbuurt ' || substr(wk.code, 7) || '-' || b, 'buurt'
FROM areas wk, generate_series(1, 10) AS b
WHERE wk.code BETWEEN 'WK999910' AND 'WK999929'
  AND NOT EXISTS (SELECT 1 FROM areas WHERE code = 'BU' || substr(wk.code, 3) || lpad(b::text, 2, '0'));
"""

ORGANIZATIONS_SQL = f"""
INSERT INTO directory_organizations (id, municipality_id, name, description)
SELECT gen_random_uuid(), m.id, '{PREFIX} ' || lpad(g::text, 4, '0'),
       'Aanbieder ' || g || ' van de sociale kaart.'
FROM municipalities m, generate_series(0, {ORGANIZATIONS - 1}) AS g
WHERE m.code = 'GM9999'
"""

LOCATIONS_SQL = f"""
WITH o AS (
    SELECT id, row_number() OVER (ORDER BY name) - 1 AS n FROM directory_organizations
    WHERE name LIKE '{PREFIX} %'
), b AS (
    SELECT a.id, row_number() OVER (ORDER BY a.code) - 1 AS n
    FROM areas a JOIN municipalities m ON m.id = a.municipality_id
    WHERE m.code = 'GM9999' AND a.level = 'buurt'
), nb AS (SELECT count(*) AS c FROM b)
INSERT INTO directory_locations (
    id, organization_id, name, description, address_1, postal_code, city, buurt_id
)
SELECT gen_random_uuid(), o.id, 'Benchlocatie ' || g, '', 'Benchstraat ' || (g % 300 + 1), '8912 AB',
       'Waddenmeer', b.id
FROM generate_series(0, {LOCATIONS - 1}) AS g
JOIN o ON o.n = g % {ORGANIZATIONS}
CROSS JOIN nb
JOIN b ON b.n = (g * 7919) % nb.c
"""

SERVICES_SQL = f"""
WITH o AS (
    SELECT id, row_number() OVER (ORDER BY name) - 1 AS n FROM directory_organizations
    WHERE name LIKE '{PREFIX} %'
), t AS (SELECT array_agg(code ORDER BY code) AS codes FROM themes WHERE active),
   d AS (SELECT array_agg(code ORDER BY code) AS codes FROM life_domains WHERE active),
   w AS (SELECT $1::text[] AS words, cardinality($1::text[]) AS n)
INSERT INTO directory_services (
    id, organization_id, name, description, status, eligibility_description, application_process,
    fees_description, internal_notes, free_of_charge, languages, minimum_age, maximum_age, themes,
    life_domains, public
)
SELECT gen_random_uuid(), o.id,
       initcap(w.words[1 + g % w.n]) || ' ' || w.words[1 + (g / w.n) % w.n] || ' ' || g,
       'Hulp bij ' || w.words[1 + (g * 7) % w.n] || ' en ' || w.words[1 + (g * 11) % w.n]
           || ', voor inwoners met vragen over ' || w.words[1 + (g * 13) % w.n] || '.',
       CASE WHEN g % 50 = 0 THEN 'defunct' ELSE 'active' END,
       'Inwoners van de gemeente.', 'Bel of loop binnen.', '', '',
       g % 2 = 0, ARRAY['nl'],
       CASE WHEN g % 4 = 0 THEN 18 END, CASE WHEN g % 8 = 1 THEN 23 END,
       CASE WHEN g % 3 = 0
            THEN ARRAY[t.codes[1 + g % cardinality(t.codes)], t.codes[1 + (g + 3) % cardinality(t.codes)]]
            ELSE ARRAY[t.codes[1 + g % cardinality(t.codes)]] END,
       ARRAY[d.codes[1 + g % cardinality(d.codes)]],
       g % 10 <> 9
FROM generate_series(0, {SERVICES - 1}) AS g
JOIN o ON o.n = g % {ORGANIZATIONS}
CROSS JOIN t CROSS JOIN d CROSS JOIN w
"""

# Service g's organisation is g % 500; location l's is l % 500: service g is at locations g, g + 5000,
# g + 10000 and g + 15000 (numbered by name), all of its own organisation.
LINKS_SQL = f"""
WITH s AS (
    SELECT s.id, (regexp_match(s.name, '([0-9]+)$'))[1]::int AS n
    FROM directory_services s JOIN directory_organizations o ON o.id = s.organization_id
    WHERE o.name LIKE '{PREFIX} %'
), l AS (
    SELECT array_agg(id ORDER BY substr(name, 14)::int) AS ids
    FROM directory_locations WHERE name LIKE 'Benchlocatie %'
)
INSERT INTO directory_service_at_locations (id, service_id, location_id, description)
SELECT gen_random_uuid(), s.id, l.ids[1 + s.n + k * {SERVICES}], ''
FROM s CROSS JOIN l CROSS JOIN generate_series(0, {LOCATIONS // SERVICES - 1}) AS k
"""

AREAS_OF_SERVICES = f"""
WITH s AS (
    SELECT s.id, (regexp_match(s.name, '([0-9]+)$'))[1]::int AS n,
           (SELECT b.id FROM directory_service_at_locations sal
              JOIN directory_locations loc ON loc.id = sal.location_id
              JOIN areas b ON b.id = loc.buurt_id
            WHERE sal.service_id = s.id ORDER BY loc.name LIMIT 1) AS buurt
    FROM directory_services s JOIN directory_organizations o ON o.id = s.organization_id
    WHERE o.name LIKE '{PREFIX} %'
)
INSERT INTO directory_service_areas (id, service_id, area_id)
SELECT gen_random_uuid(), s.id,
       CASE WHEN s.n % 10 < 3 THEN (SELECT parent_id FROM areas WHERE id = s.buurt)
            WHEN s.n % 10 = 3 THEN NULL
            ELSE s.buurt END
FROM s WHERE s.n % 10 < 6
"""

SCHEDULES_SQL = f"""
INSERT INTO directory_schedules (id, service_id, weekday, opens_at, closes_at, description)
SELECT gen_random_uuid(), s.id, 1 + (n + k * 2) % 5,
       CASE WHEN k = 0 THEN time '09:00' ELSE time '13:00' END,
       CASE WHEN k = 0 THEN time '12:00' ELSE time '17:00' END, ''
FROM (
    SELECT s.id, (regexp_match(s.name, '([0-9]+)$'))[1]::int AS n
    FROM directory_services s JOIN directory_organizations o ON o.id = s.organization_id
    WHERE o.name LIKE '{PREFIX} %'
) AS s, generate_series(0, 1) AS k
"""


async def generate(conn: asyncpg.Connection, log: Callable[[str], None]) -> bool:
    """Make the directory once; False when it is there already."""
    if await conn.fetchval(f"SELECT count(*) FROM directory_organizations WHERE name LIKE '{PREFIX} %'"):
        return False
    async with conn.transaction():
        await conn.execute(AREAS)
        for label, sql in (
            ("organisations", ORGANIZATIONS_SQL),
            ("locations", LOCATIONS_SQL),
        ):
            log(f"generating {label} ...")
            await conn.execute(sql)
        log("generating services ...")
        await conn.execute(SERVICES_SQL, list(WORDS))
        for label, sql in (("links", LINKS_SQL), ("areas", AREAS_OF_SERVICES), ("hours", SCHEDULES_SQL)):
            log(f"generating {label} ...")
            await conn.execute(sql)
    for table in ("areas", "directory_organizations", "directory_locations", "directory_services"):
        await conn.execute(f"ANALYZE {table}")
    for table in ("directory_service_at_locations", "directory_service_areas", "directory_schedules"):
        await conn.execute(f"ANALYZE {table}")
    return True


async def counts(conn: asyncpg.Connection) -> dict[str, int]:
    """How big the directory is (the README's table names these)."""
    found = {}
    for table in ("directory_services", "directory_locations", "directory_service_at_locations", "areas"):
        found[table] = int(await conn.fetchval(f"SELECT count(*) FROM {table}"))
    return found
