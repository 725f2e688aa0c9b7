-- What PostGraphile needs to serve the same answer as Wijkwerk (bench database only, idempotent):
-- a login role for anonymous callers, row-level security hiding ideas from it (Wijkwerk filters them in
-- SQL for non-members), and the theme list of an initiative as a computed column (themes is an
-- array of codes; Wijkwerk resolves it against the active theme list, in the array's order).
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'bench_anon') THEN CREATE ROLE bench_anon LOGIN; END IF;
END $$;
-- PostGraphile logs in as bench_anon (a login role under row-level security, as its users run
-- anonymous access in production) instead of switching roles per request through pgSettings.
ALTER ROLE bench_anon LOGIN;
GRANT USAGE ON SCHEMA public TO bench_anon;
GRANT SELECT ON areas, initiatives, initiative_grants, resident_networks, network_areas, year_plans, themes
  TO bench_anon;
ALTER TABLE initiatives ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS public_initiatives ON initiatives;
CREATE POLICY public_initiatives ON initiatives FOR SELECT TO bench_anon USING (status <> 'idea');
CREATE OR REPLACE FUNCTION initiatives_theme_list(i initiatives) RETURNS SETOF themes
  LANGUAGE sql STABLE AS $$
    SELECT t.* FROM unnest(i.themes) WITH ORDINALITY AS u(code, n)
    JOIN themes t ON t.code = u.code AND t.active ORDER BY u.n
  $$;
GRANT EXECUTE ON FUNCTION initiatives_theme_list(initiatives) TO bench_anon;
