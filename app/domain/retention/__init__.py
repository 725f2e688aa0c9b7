"""Retention: the purge job that removes or blanks data whose retention period has passed (DESIGN.md §5)."""
