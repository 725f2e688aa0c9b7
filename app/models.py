"""Every table of every context, imported so that ``metadata`` is complete (Alembic, tests).

A new context adds one import line here.
"""

from app.domain.audit import models as audit_models
from app.domain.base import metadata
from app.domain.changes import models as changes_models
from app.domain.households import models as households_models
from app.domain.organisation import models as organisation_models
from app.domain.reference import models as reference_models

__all__ = [
    "audit_models",
    "changes_models",
    "households_models",
    "metadata",
    "organisation_models",
    "reference_models",
]
