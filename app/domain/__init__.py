"""Bounded contexts: one package each (models, schemas, repository, service, rules)."""
