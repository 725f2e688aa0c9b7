"""Every table of every context, imported so that ``metadata`` is complete (Alembic, tests).

A new context adds one import line here.
"""

from typing import Any

from app.domain.areas import models as areas_models
from app.domain.assessments import models as assessments_models
from app.domain.base import metadata
from app.domain.consents import models as consents_models
from app.domain.directory import models as directory_models
from app.domain.households import models as households_models
from app.domain.idempotency import models as idempotency_models
from app.domain.identity import models as identity_models
from app.domain.initiatives import models as initiatives_models
from app.domain.organisation import models as organisation_models
from app.domain.plans import models as plans_models
from app.domain.readmodel import worklist_facts as worklist_facts_models
from app.domain.reference import models as reference_models
from app.domain.referrals import models as referrals_models
from app.domain.retention import models as retention_models
from app.domain.self_service import models as self_service_models
from app.domain.signals import models as signals_models
from app.domain.support_network import models as support_network_models
from app.domain.unit_of_work import access_log as access_log_models
from app.domain.unit_of_work import burden as burden_models
from app.domain.unit_of_work import change_feed as change_feed_models
from app.domain.unit_of_work import public_data as public_data_models
from app.domain.unit_of_work.partitions import is_partition
from app.domain.webhooks import models as webhooks_models

__all__ = [
    "access_log_models",
    "areas_models",
    "assessments_models",
    "burden_models",
    "change_feed_models",
    "consents_models",
    "directory_models",
    "households_models",
    "idempotency_models",
    "identity_models",
    "initiatives_models",
    "metadata",
    "organisation_models",
    "plans_models",
    "public_data_models",
    "reference_models",
    "referrals_models",
    "retention_models",
    "self_service_models",
    "signals_models",
    "support_network_models",
    "webhooks_models",
    "worklist_facts_models",
]


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Alembic compares the models' tables, not the monthly partitions the migration and the jobs make
    (``app.domain.unit_of_work.partitions``)."""
    return not (type_ == "table" and name is not None and is_partition(name))
