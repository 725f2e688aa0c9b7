"""The two benchmark queries, as Wijkwerk and as PostGraphile v5 spell them over the same tables.

(a) dashboard: one buurt with its 200 newest initiatives, each with themes, grant and network.
(b) list: the 20 newest initiatives with themes, grant and buurt, and whether a next page exists.
Both are asked anonymously (public fields; ideas hidden), the common case of a public dashboard.
"""

from __future__ import annotations

import json

_INITIATIVE = """id title status requestedAmountCents grantedAmountCents startsOn endsOn
      themes { code labelNl }
      grant { decision amountCents decidedAt }"""

WIJKWERK_DASHBOARD = f"""query Dashboard($code: String!) {{
  neighbourhood(code: $code) {{
    code name
    initiatives(first: 200) {{
      {_INITIATIVE}
      network {{ id name }}
    }}
  }}
}}"""

WIJKWERK_LIST = f"""query List {{
  initiatives(first: 20) {{
    pageInfo {{ hasNextPage }}
    nodes {{
      {_INITIATIVE}
      summary
      neighbourhood {{ code name }}
    }}
  }}
}}"""

_PG_INITIATIVE = """rowId title status requestedCents grantedCents startsOn endsOn
      themeList { nodes { code labelNl } }
      initiativeGrantByInitiativeId { decision amountCents decidedAt }"""

POSTGRAPHILE_DASHBOARD = f"""query Dashboard($code: String!) {{
  areaByCode(code: $code) {{
    code name
    initiativesByBuurtId(first: 200, orderBy: [CREATED_AT_DESC, ROW_ID_DESC]) {{
      nodes {{
        {_PG_INITIATIVE}
        residentNetworkByNetworkId {{ rowId name }}
      }}
    }}
  }}
}}"""

POSTGRAPHILE_LIST = f"""query List {{
  allInitiatives(first: 20, orderBy: [CREATED_AT_DESC, ROW_ID_DESC]) {{
    pageInfo {{ hasNextPage }}
    nodes {{
      {_PG_INITIATIVE}
      summary
      areaByBuurtId {{ code name }}
    }}
  }}
}}"""


def body(query: str, **variables: str) -> str:
    return json.dumps({"query": query, "variables": variables})
