"""Offline sync for the team app: what changed in the caller's caseload since a cursor (change feed)."""
