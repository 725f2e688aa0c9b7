"""Policy signals (beleidssignalen): a practice situation where a rule blocks a good solution."""
