"""Resident networks, year plans, resident initiatives and grants (the public side of the neighbourhood)."""
