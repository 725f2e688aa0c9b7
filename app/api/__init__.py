"""HTTP layer: thin routers, dependencies, and the one place domain errors become problem+json."""
