"""Referrals between the team and partner organisations, both directions, one lifecycle (FHIR Task)."""
