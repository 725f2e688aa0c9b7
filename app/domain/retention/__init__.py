"""Retention: the purge job that removes or blanks data whose retention period has passed, so personal
data is kept no longer than the work needs it (the terms: docs/privacy.md)."""
