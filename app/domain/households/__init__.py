"""The household case file: households, members (BSN protected), contact moments and themes."""
