"""a statement over many households locks the worklist's facts table instead of one lock per household

Revision ID: 0280
Revises: 0270
Create Date: 2026-12-08 01:15:00

0270 serialised the writers of one household's facts with a transaction-scoped advisory lock per
household. PostgreSQL keeps every such lock in its shared lock table, which is sized for about
``max_locks_per_transaction`` (64 by default) locks per connection: a statement touching thousands of
households (the demo loader's batches of 10,000, a bulk correction, a re-assignment of a caseload) ran
out of shared memory and failed. Now a statement that touches more than ``MANY`` households takes one
SHARE ROW EXCLUSIVE lock on ``worklist_facts`` instead; every statement with fewer first takes ROW
EXCLUSIVE on it (the lock its upsert takes anyway, kept in the backend's fast path) and then its
households' advisory locks, as before. The two modes conflict, so a bulk refresh waits for every
transaction that is refreshing households to end, and those that come after wait for it: either way
each reads the sources after the other's writes are committed, which is all the per-household locks
promised. Readers of the facts take ACCESS SHARE and are not held up.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0280"
down_revision: str | None = "0270"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LOCK_CLASS = 0x776B_6661  # "wkfa", as in 0270

# More households than PostgreSQL's default lock budget of one transaction: one table lock instead.
MANY = 64

LOCK = f"""
CREATE OR REPLACE FUNCTION worklist_facts_lock(changed uuid[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF cardinality(changed) > {MANY} THEN
        -- Waits for every transaction refreshing households; keeps them waiting until this one ends.
        LOCK TABLE worklist_facts IN SHARE ROW EXCLUSIVE MODE;
        RETURN;
    END IF;
    -- First the mode a bulk refresh waits for (and that waits for one), then one writer per household
    -- at a time, in key order.
    LOCK TABLE worklist_facts IN ROW EXCLUSIVE MODE;
    PERFORM pg_advisory_xact_lock({LOCK_CLASS}, k)
       FROM (SELECT DISTINCT hashtext(h::text) AS k FROM unnest(changed) AS h) AS keys ORDER BY k;
END
$$
"""  # noqa: S608 (our own SQL)

# 0270's, restored on the way down.
PER_HOUSEHOLD = f"""
CREATE OR REPLACE FUNCTION worklist_facts_lock(changed uuid[]) RETURNS void LANGUAGE sql AS $$
    -- One writer per household at a time (see the migration 0270), in key order.
    SELECT pg_advisory_xact_lock({LOCK_CLASS}, k)
      FROM (SELECT DISTINCT hashtext(h::text) AS k FROM unnest(changed) AS h) AS keys ORDER BY k;
$$
"""  # noqa: S608 (our own SQL)


def upgrade() -> None:
    # A function's language cannot be changed by CREATE OR REPLACE: drop and create, in this transaction
    # (the functions that call it look it up by name when they run).
    op.execute("DROP FUNCTION worklist_facts_lock(uuid[])")
    op.execute(LOCK)


def downgrade() -> None:
    op.execute("DROP FUNCTION worklist_facts_lock(uuid[])")
    op.execute(PER_HOUSEHOLD)
