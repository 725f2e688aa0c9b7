"""The access log (NEN 7513 style): who touched which case data, when, why, and with what outcome."""
