"""The security kernel: who is calling (``Principal``), in which role, with which scopes.

Imports nothing of Wijkwerk: domain code, the HTTP layer and GraphQL all build on it.
"""
