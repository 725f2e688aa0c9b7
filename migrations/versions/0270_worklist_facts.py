"""the worklist's facts per household, kept by triggers where their sources are written

Revision ID: 0270
Revises: 0260
Create Date: 2026-12-07 18:30:00

The worklist's items of a household (app/domain/readmodel/worklist.py, ``HOUSEHOLD_ITEMS``) follow from
a few dates of it and its files, and from the thresholds (settings, parameters of the query): its stored
tier, its last contact, its one active plan (agreed or not, evaluation date), whether an outbound
referral waits for a partner's response (the oldest such), whether a consent can expire (the latest
end of one not withdrawn). ``worklist_facts`` keeps them in one narrow row per household, so the
worklist reads one row per household instead of probing five tables for each; the referrals and
consents are only read for a household whose row says it has one to list.

Like the tier (0205), nothing here reads today or the settings, so the row stays right as long as it is
worked out again whenever a source changes: statement triggers on contact_moments, plans, referrals,
consents and household_tiers do that for every household a statement touched (their transition tables;
an UPDATE may move a row between households, so both the old and the new household, and only where a
column the facts use or the household changed; a TRUNCATE, every household). A household's deletion
takes its row along (the foreign key).

Two transactions writing one household at once must not each store a row that misses the other's write:
the refresh first takes a transaction-scoped advisory lock per household (in key order) and then reads
the sources in a statement of its own, which under READ COMMITTED sees what the other committed. Not the
households' rows: the trigger runs after its statement has locked the source rows, whereas the services
lock the household first and then its plan (a new plan version, closing a household), so a row lock here
would be taken in the opposite order and deadlock; no application path takes these advisory locks.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0270"
down_revision: str | None = "0260"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _day(column: str) -> str:
    """A timestamp's local (Dutch) calendar date (as ``worklist._day``)."""
    return f"({column} AT TIME ZONE 'Europe/Amsterdam')::date"


FACT_COLUMNS = (
    "tier", "last_contact_on", "plan_id", "plan_revision", "plan_agreed", "plan_evaluation_date",
    "outbound_waiting_since", "consent_valid_until",
)  # fmt: skip

# The facts of the households ``h`` that pass ``{households}``: one probe of each source per household.
FACTS = f"""
SELECT h.id, t.tier, lc.last_on, p.id, p.revision, COALESCE(p.agreed_at IS NOT NULL, false),
       p.evaluation_date, ob.since, cs.until
  FROM households AS h
  LEFT JOIN household_tiers AS t ON t.household_id = h.id
  LEFT JOIN plans AS p ON p.household_id = h.id AND p.status = 'active'
 CROSS JOIN LATERAL (SELECT {_day("max(cm.occurred_at)")} AS last_on
                       FROM contact_moments AS cm WHERE cm.household_id = h.id) AS lc
 CROSS JOIN LATERAL (SELECT min({_day("r.created_at")}) AS since
                       FROM referrals AS r
                      WHERE r.household_id = h.id AND r.direction = 'outbound'
                        AND r.status = 'submitted') AS ob
 CROSS JOIN LATERAL (SELECT max(c.valid_until) AS until
                       FROM consents AS c
                      WHERE c.household_id = h.id AND c.withdrawn_at IS NULL
                        AND c.valid_until IS NOT NULL) AS cs
 WHERE {{households}}"""  # noqa: S608

_COLUMNS = ", ".join(("household_id", *FACT_COLUMNS))
_UPDATES = ", ".join(f"{column} = EXCLUDED.{column}" for column in FACT_COLUMNS)
_CHANGED = " OR ".join(f"worklist_facts.{c} IS DISTINCT FROM EXCLUDED.{c}" for c in FACT_COLUMNS)
UPSERT = f"""INSERT INTO worklist_facts ({_COLUMNS}) {FACTS}
    ON CONFLICT (household_id) DO UPDATE SET {_UPDATES} WHERE {_CHANGED}"""

# The advisory-lock class of a household's facts (the two-key form; the idempotency keys use 0x6964_656D,
# every other advisory lock of the codebase the one-key form, a space of its own).
LOCK_CLASS = 0x776B_6661  # "wkfa"

LOCK = f"""
CREATE FUNCTION worklist_facts_lock(changed uuid[]) RETURNS void LANGUAGE sql AS $$
    -- One writer per household at a time (see the migration 0270), in key order.
    SELECT pg_advisory_xact_lock({LOCK_CLASS}, k)
      FROM (SELECT DISTINCT hashtext(h::text) AS k FROM unnest(changed) AS h) AS keys ORDER BY k;
$$
"""  # noqa: S608 (our own SQL)

REFRESH = f"""
CREATE FUNCTION worklist_facts_refresh(changed uuid[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF cardinality(changed) = 0 THEN
        RETURN;
    END IF;
    -- A household deleted by this statement is gone here, and gets no row.
    PERFORM worklist_facts_lock(changed);
    {UPSERT.format(households="h.id = ANY (changed)")};
END
$$
"""


def _inserted_moves_one_fact(table: str, column: str, value: str, *, later: bool, rows: str = "true") -> str:
    """The rows a statement inserted into ``table`` can move one fact only, and one way: a later last
    contact (``later``), an earlier oldest waiting referral. So each household's row takes the later (or
    earlier) of its fact and the new rows' ``value`` instead of being worked out again from all five
    sources: the writes a worker and a partner make most (a contact moment, a referral) stay cheap. Only
    the rows passing ``rows`` (over ``new_rows AS n``) count; a statement with none touches nothing (an
    inbound referral).

    Under the same lock as the refresh, so a refresh that read the sources before these rows committed
    cannot store its older fact afterwards. A household without a row (its first source row, or a row
    lost to a bulk load without triggers) is worked out whole, so a row is never this fact alone. The
    other sources
    are locked as a refresh's reading of them locks them (ACCESS SHARE), so a TRUNCATE of one waits for
    this transaction as it waits for every refresh (``OF_TRUNCATE``)."""
    others = ", ".join(source for source in FACT_SOURCES if source != table)
    pick, keep = ("max", "GREATEST") if later else ("min", "LEAST")
    moved = ">" if later else "<"
    counted = f"n.household_id IS NOT NULL AND {rows}"
    return f"""
    IF EXISTS (SELECT FROM new_rows AS n WHERE {counted}) THEN
        LOCK TABLE {others} IN ACCESS SHARE MODE;
        PERFORM worklist_facts_lock(ARRAY(SELECT DISTINCT n.household_id FROM new_rows AS n WHERE {counted}));
        -- A household without a row is worked out whole (its first source row, or a row lost).
        PERFORM worklist_facts_refresh(ARRAY(
            SELECT DISTINCT n.household_id FROM new_rows AS n
             WHERE {counted} AND NOT EXISTS (SELECT FROM worklist_facts AS f WHERE f.household_id = n.household_id)));
        INSERT INTO worklist_facts (household_id, {column}, plan_agreed)
        SELECT n.household_id, {pick}({value}), false
          FROM new_rows AS n WHERE {counted} GROUP BY n.household_id
            ON CONFLICT (household_id) DO UPDATE
           SET {column} = {keep}(worklist_facts.{column}, EXCLUDED.{column})
         WHERE worklist_facts.{column} IS NULL OR EXCLUDED.{column} {moved} worklist_facts.{column};
    END IF;"""  # noqa: S608 (our own SQL: names from this migration)


# Per source, the columns its facts are worked out from (``FACTS``): an UPDATE that changes none of them
# (nor household_id) cannot change a fact, and refreshes (and locks) nothing. Keep in step with FACTS.
FACT_SOURCES = {
    "contact_moments": "occurred_at",
    "plans": "id, status, agreed_at, evaluation_date, revision",
    "referrals": "direction, status, created_at",
    "consents": "withdrawn_at, valid_until",
    "household_tiers": "tier",
}

# The rows of a source its facts are read from, where not all (``FACTS`` reads outbound referrals only):
# an update of other rows (a partner answering an inbound referral) refreshes nothing.
FACT_ROWS = {"referrals": "direction = 'outbound'"}

# The sources whose inserted rows move one fact one way (``_inserted_moves_one_fact``); the others'
# inserts refresh their households.
INSERTED = {
    "contact_moments": _inserted_moves_one_fact(
        "contact_moments", "last_contact_on", _day("n.occurred_at"), later=True
    ),
    "referrals": _inserted_moves_one_fact(
        "referrals",
        "outbound_waiting_since",
        _day("n.created_at"),
        later=False,
        rows="n.direction = 'outbound' AND n.status = 'submitted'",
    ),
}


def _of_rows(table: str) -> str:
    """The households of the rows a statement changed (its transition tables). An UPDATE may move a row
    between households, so both the old and the new household, but only those with a row whose
    household or fact columns differ (what is in one table and not the other, row for row)."""
    columns = f"household_id, {FACT_SOURCES[table]}"
    rows = FACT_ROWS.get(table, "true")
    inserted = INSERTED.get(table) or (
        """PERFORM worklist_facts_refresh(ARRAY(
            SELECT DISTINCT household_id FROM new_rows WHERE household_id IS NOT NULL));"""
    )
    return f"""
CREATE FUNCTION worklist_facts_of_{table}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {inserted}
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM worklist_facts_refresh(ARRAY(
            SELECT DISTINCT household_id FROM old_rows WHERE household_id IS NOT NULL));
    ELSE
        PERFORM worklist_facts_refresh(ARRAY(
            SELECT DISTINCT household_id
              FROM ((SELECT {columns} FROM old_rows WHERE {rows}
                     EXCEPT ALL SELECT {columns} FROM new_rows WHERE {rows})
                    UNION ALL
                    (SELECT {columns} FROM new_rows WHERE {rows}
                     EXCEPT ALL SELECT {columns} FROM old_rows WHERE {rows})) AS moved
             WHERE household_id IS NOT NULL));
    END IF;
    RETURN NULL;
END
$$
"""  # noqa: S608 (our own SQL: table and column names from FACT_SOURCES)


# A source emptied at once (TRUNCATE has no transition table): every household's row again. It needs no
# lock of its own: every refresh reads all five sources (``FACTS``), so its transaction holds ACCESS SHARE
# on the emptied table until it ends, and TRUNCATE's ACCESS EXCLUSIVE on it waits for every such
# transaction and keeps every later refresh from reading until the truncating one ends. The upsert, a
# statement of its own, thus sees what every refresh before it committed, and none runs beside it. (The
# households' advisory locks would not do: one per household overflows the lock table of a large
# database.)
# A TRUNCATE of a source while the app writes can still end in a deadlock PostgreSQL breaks (a writer
# holding a source waits for a household's lock whose holder waits behind the queued TRUNCATE); no
# application path truncates a source.
OF_TRUNCATE = f"""
CREATE FUNCTION worklist_facts_of_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {UPSERT.format(households="true")};
    RETURN NULL;
END
$$
"""

SOURCES = tuple(FACT_SOURCES)
EVENTS = (
    ("inserted", "INSERT", "NEW TABLE AS new_rows"),
    ("updated", "UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
    ("deleted", "DELETE", "OLD TABLE AS old_rows"),
)


def upgrade() -> None:
    op.create_table(
        "worklist_facts",
        sa.Column("household_id", sa.Uuid(), nullable=False),
        sa.Column("tier", sa.String(length=16), nullable=True),
        sa.Column("last_contact_on", sa.Date(), nullable=True),
        sa.Column("plan_id", sa.Uuid(), nullable=True),
        sa.Column("plan_revision", sa.Integer(), nullable=True),
        sa.Column("plan_agreed", sa.Boolean(), nullable=False),
        sa.Column("plan_evaluation_date", sa.Date(), nullable=True),
        sa.Column("outbound_waiting_since", sa.Date(), nullable=True),
        sa.Column("consent_valid_until", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name=op.f("fk_worklist_facts_household_id_households"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("household_id", name=op.f("pk_worklist_facts")),
    )
    for function in (LOCK, REFRESH, *(_of_rows(table) for table in SOURCES), OF_TRUNCATE):
        op.execute(function)
    # The triggers first: they lock the source tables against writes until this transaction commits, so
    # nothing lands between the back-fill and the triggers.
    for table in SOURCES:
        for suffix, event, transitions in EVENTS:
            op.execute(
                f"CREATE TRIGGER worklist_facts_{suffix} AFTER {event} ON {table} REFERENCING {transitions} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION worklist_facts_of_{table}()"
            )
        op.execute(
            f"CREATE TRIGGER worklist_facts_truncated AFTER TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION worklist_facts_of_truncate()"
        )
    # Every household at once, by the same text as the refresh (a probe of each source per household).
    op.execute(UPSERT.format(households="true"))


def downgrade() -> None:
    for table in SOURCES:
        for suffix in (*(event[0] for event in EVENTS), "truncated"):
            op.execute(f"DROP TRIGGER worklist_facts_{suffix} ON {table}")
    op.execute("DROP FUNCTION worklist_facts_of_truncate()")
    for table in SOURCES:
        op.execute(f"DROP FUNCTION worklist_facts_of_{table}()")
    op.execute("DROP FUNCTION worklist_facts_refresh(uuid[])")
    op.execute("DROP FUNCTION worklist_facts_lock(uuid[])")
    op.drop_table("worklist_facts")
