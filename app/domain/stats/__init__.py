"""Stats: aggregates per area and period with disclosure control (DESIGN.md §5, docs/statistics.md)."""
