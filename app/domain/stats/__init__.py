"""Stats: aggregates per area and period, with disclosure control so that no figure singles out a small
group of households (docs/statistics.md)."""
