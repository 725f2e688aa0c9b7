"""The worklist offline: the sync entity ``worklist``, one document per open household (its id is the
household's id), in the shape of ``HouseholdWorklist``.

The items are those of the route (``worklist.items_of``, the one text of them, which the route runs
per household of its scope too), computed for the one household the document is of, in a subquery
correlated to the household, so the sync page computes the items only of the households it
carries (by id: the page's filter reaches the households' primary key). The sync page checks the
caseload (confidential households only for the workers involved) and logs each household it carries,
as for every entity.

What makes a document change. Time alone never does: every item carries when it is due and the days it
is listed (``show_from``, ``listed_until``), from the data and the settings, so a phone lists by its
own calendar and an item "appears" offline on the day it is due to, with no sync. Data does: any
change of a household's objects (a contact moment, a score, a plan, a referral, a consent, the
household itself) sends the household's worklist again, since it is derived from them
(``SyncEntity.per_household``); an access change sends the household whole; a household that closes
has no worklist, and the phone gets its tombstone. The thresholds come from the settings
(``WorklistPolicy``); a changed threshold reaches a phone with the next change of each household or a
full sync.

Only the household items: an inbound referral waiting for a decision belongs to no household yet, and
the team lead's items (break-glass reviews, households without a coordinator) are the lead's online
view.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from app.domain.documents import json_object_sql
from app.domain.households.models import HouseholdStatus
from app.domain.readmodel.worklist import WorklistPolicy, fragment, item_fields, items_of
from app.domain.readmodel.worklist_schemas import HouseholdWorklist, ListedWork
from app.domain.unit_of_work.registries import SyncEntity
from app.settings import Settings

ENTITY = "worklist"

_ITEMS = f"""SELECT COALESCE(json_agg({json_object_sql(ListedWork, item_fields("item", "wh"))}
                         ORDER BY item.due_on, item.kind, item.object_id), '[]')
  FROM ({items_of("wh")}) AS item"""  # noqa: S608 - our own SQL

# Whose "what needs me" lists the household: the route's ``mine`` (coordinator or assigned).
_WORKERS = """SELECT w.worker_id
  FROM (SELECT wh.coordinator_id AS worker_id WHERE wh.coordinator_id IS NOT NULL
        UNION SELECT a.worker_id FROM household_assignments AS a WHERE a.household_id = wh.id) AS w
 ORDER BY w.worker_id"""

_DATA = json_object_sql(
    HouseholdWorklist, {"household_id": "wh.id", "worker_ids": f"ARRAY({_WORKERS})", "items": f"({_ITEMS})"}
)

_DOCUMENTS = f"""SELECT wh.id AS entity_id, wh.id AS household_id, {_DATA} AS data
  FROM households AS wh
 WHERE wh.status <> '{HouseholdStatus.closed}'"""  # noqa: S608 - our own SQL


def _documents() -> sa.Select[Any]:
    documents = fragment(_DOCUMENTS, "entity_id", "household_id", "data").subquery("worklist")
    return sa.select(documents.c.entity_id, documents.c.household_id, documents.c.data)


def _values(settings: Settings) -> dict[str, Any]:
    """The thresholds the documents are computed with."""
    return WorklistPolicy.from_settings(settings).values()


SYNC_ENTITIES = (SyncEntity(ENTITY, _documents(), values=_values, per_household=True),)
