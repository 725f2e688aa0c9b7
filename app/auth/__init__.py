"""Authentication and authorization: scopes and roles, tokens, the principal, the built-in OAuth server."""
