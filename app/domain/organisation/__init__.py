"""Municipality, areas, teams, workers, partner organisations, people and OAuth clients."""
