"""Who may call a route, as the types a route writes in its signature (``principal: CaseReader``).

Each name bundles the scopes of one kind of data: scopes say which kind of data a caller may touch,
the object rules in the services say which objects. The kinds of case data, referrals, self-service
and the access log record a refused scope in the access log (an attempt on case data is part of the
record); the others answer 403 without a record.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Security

from app.api.deps import caller, logged_caller, maybe_caller
from app.security.principal import Principal
from app.security.scopes import Scope


def _scopes(*scopes: Scope) -> list[str]:
    return [str(s) for s in scopes]


# -- case data (households, plans, network maps, assessments, consents, sync) ----------------------
CaseReader = Annotated[Principal, Security(logged_caller, scopes=_scopes(Scope.cases_read))]
CaseWriter = Annotated[Principal, Security(logged_caller, scopes=_scopes(Scope.cases_write))]
CaseAssigner = Annotated[Principal, Security(logged_caller, scopes=_scopes(Scope.cases_assign))]
CaseAndReferralReader = Annotated[
    Principal, Security(logged_caller, scopes=_scopes(Scope.cases_read, Scope.referrals_read))
]
CaseAndReferralWriter = Annotated[
    Principal, Security(logged_caller, scopes=_scopes(Scope.cases_write, Scope.referrals_write))
]

# -- referrals and webhooks (partners and the team) -------------------------------------------------
ReferralReader = Annotated[Principal, Security(logged_caller, scopes=_scopes(Scope.referrals_read))]
ReferralWriter = Annotated[Principal, Security(logged_caller, scopes=_scopes(Scope.referrals_write))]

# -- the access log (privacy officer) -----------------------------------------------------------------
AuditReader = Annotated[Principal, Security(logged_caller, scopes=_scopes(Scope.audit_read))]

# -- self-service: a household member's own file (their data, plan, consents, access log) ----------
SelfReader = Annotated[Principal, Security(logged_caller, scopes=_scopes(Scope.self_read))]
SelfWriter = Annotated[Principal, Security(logged_caller, scopes=_scopes(Scope.self_write))]

# -- aggregates (BI), organisation set-up (admin), resident networks --------------------------------
StatsReader = Annotated[Principal, Security(caller, scopes=_scopes(Scope.stats_read))]
Admin = Annotated[Principal, Security(caller, scopes=_scopes(Scope.admin))]
InitiativeWriter = Annotated[Principal, Security(caller, scopes=_scopes(Scope.initiatives_write))]
NetworkManager = Annotated[Principal, Security(caller, scopes=_scopes(Scope.networks_manage))]

# -- the sociale kaart: administrators maintain every entry, a partner its own organisation's ------
# (the object rule in app.domain.directory.rules decides which organisation)
DirectoryWriter = Annotated[Principal, Security(caller, scopes=_scopes(Scope.services_write))]

# -- policy signals: team members write their team's, policy staff answer the submitted ones --------
# (the object rules in app.domain.signals decide which signals, and which step)
SignalReader = Annotated[Principal, Security(caller, scopes=_scopes(Scope.signals_read))]
SignalWriter = Annotated[Principal, Security(caller, scopes=_scopes(Scope.signals_write))]
SignalAnswerer = Annotated[Principal, Security(caller, scopes=_scopes(Scope.signals_answer))]

# -- anyone: a token is optional, and verified when sent -------------------------------------------
MaybeCaller = Annotated[Principal | None, Depends(maybe_caller)]
