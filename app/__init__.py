"""Wijkwerk: the open API service for Dutch social neighbourhood teams."""
