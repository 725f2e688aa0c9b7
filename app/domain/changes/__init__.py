"""The case-file change feed behind mobile sync: one row per changed case object, in commit order."""
