"""Routes that need no token. Everything else must declare its scopes (a test walks every route).

Add a route here only when anonymous callers are meant to reach it, with a comment saying why.
"""

from __future__ import annotations

PUBLIC_ROUTES: frozenset[tuple[str, str]] = frozenset(
    {
        ("GET", "/healthz"),  # liveness probe
        ("GET", "/readyz"),  # readiness probe: says only ok/unavailable
        # Prometheus text: request counts and latencies per route template, no personal data
        # (restrict it at the ingress; docs/operations.md).
        ("GET", "/metrics"),
        # The contract, whole and for API version 1 (NL GOV API Design Rules /core/publish-openapi:
        # readable without authentication), and its viewer with the viewer's own files (the viewer
        # is off in production settings).
        ("GET", "/openapi.json"),
        ("GET", "/api/v1/openapi.json"),
        ("GET", "/docs"),
        ("GET", "/docs/oauth2-redirect"),
        ("*", "/docs/assets"),
        # Websocket routes are listed as ("WEBSOCKET", path), mounted ASGI apps as ("*", path).
        # OAuth: clients authenticate in the request itself (RFC 6749), people on the login page.
        ("POST", "/oauth/token"),
        ("POST", "/oauth/revoke"),  # RFC 7009: the client authenticates in the request
        ("GET", "/oauth/authorize"),
        ("POST", "/oauth/authorize"),
        # Household members set their password with a one-time code from their coordinator.
        ("GET", "/oauth/activate"),
        ("POST", "/oauth/activate"),
        # Discovery and public keys: published so clients and resource servers can find and verify.
        ("GET", "/.well-known/openid-configuration"),
        ("GET", "/.well-known/oauth-authorization-server"),
        ("GET", "/.well-known/jwks.json"),
        # Resident initiatives: the municipality's website lists public fields without a token
        # (a token is optional; the same visibility rules apply through the same service).
        ("GET", "/api/v1/initiatives"),
        ("GET", "/api/v1/initiatives/{initiative_id}"),
        # The sociale kaart: who offers what help where is public information (a token is optional;
        # non-public services and internal notes only reach workers and administrators, through the
        # same service).
        ("GET", "/api/v1/directory/organizations"),
        ("GET", "/api/v1/directory/organizations/{organization_id}"),
        ("GET", "/api/v1/directory/locations/{location_id}"),
        ("GET", "/api/v1/directory/services"),
        ("GET", "/api/v1/directory/services/{service_id}"),
        ("GET", "/api/v1/directory/community-offers"),
        # The sociale kaart as Open Referral's HSDS API: public services only, for HSDS tools.
        ("GET", "/hsds"),
        ("GET", "/hsds/services"),
        ("GET", "/hsds/services/{id}"),
        ("GET", "/hsds/organizations"),
        ("GET", "/hsds/organizations/{id}"),
        ("GET", "/hsds/taxonomies"),
        ("GET", "/hsds/taxonomies/{id}"),
        ("GET", "/hsds/taxonomy_terms"),
        ("GET", "/hsds/taxonomy_terms/{id}"),
        ("GET", "/hsds/service_at_locations"),
        ("GET", "/hsds/service_at_locations/{id}"),
        # GraphQL for neighbourhood dashboards: anonymous callers get public fields only; every
        # non-public field and every mutation declares its permission (tests/graphql walks them).
        ("POST", "/graphql"),
        ("GET", "/graphql"),
        # The neighbourhood pages (docs/wijk.md): static shells, assets and the text of their public
        # queries; they hold no data (the browser asks /graphql as an anonymous caller).
        ("*", "/wijk"),
    }
)
