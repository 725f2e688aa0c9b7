"""Consents: who agreed to share what, with which organisation, for which purpose, and until when."""
