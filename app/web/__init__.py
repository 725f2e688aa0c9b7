"""What the two faces (REST in ``app.api``, GraphQL in ``app.graphql``) share, below both of them:
the caller from the bearer token, the request's unit of work, signed list cursors, rate limits and
observability (request ids, JSON logs, metrics).

Neither face imports the other; both import this package and the domain.
"""
