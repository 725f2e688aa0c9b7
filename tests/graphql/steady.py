"""Counting one request's own statements, whatever the age of what the process keeps for a while.

A process reloads some reference data when it has grown old, inside the request that finds it so:
the signing keys (``tokens.KEYRING_MAX_AGE``, on every authenticated request) and the theme list
(``service.THEMES_MAX_AGE``, when a resolver needs the themes). Both are read at most once a minute,
but the session's app has kept them since whichever earlier test loaded them, so they fall due at a
moment no test chooses: a warm-up request just before a counted one does not help when they are
still fresh for the warm-up and due a few milliseconds later, in the counted request (a resident's
dashboard once counted 8 statements instead of 7: the signing keys' reload).

``steady_process`` makes that moment a chosen one: on entering, everything such is due (the next
request reloads it); ``counted`` then keeps it from falling due until the block ends. A warm-up
request in between takes every reload, and the counted request sends only its own statements.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from app.domain.identity import tokens
from app.domain.initiatives import service

# The ages after which the process reads them again, as module constants read on every use.
_MAX_AGES = ((tokens, "KEYRING_MAX_AGE"), (service, "THEMES_MAX_AGE"))


class SteadyProcess:
    def __init__(self, patch: pytest.MonkeyPatch) -> None:
        self._patch = patch
        self._set(-1.0)  # due now: the next request reloads them

    @contextmanager
    def counted(self) -> Iterator[None]:
        """Nothing the process keeps falls due in the block (what the warm-up loaded stays)."""
        self._set(math.inf)
        try:
            yield
        finally:
            self._set(-1.0)

    def _set(self, age: float) -> None:
        for module, name in _MAX_AGES:
            self._patch.setattr(module, name, age)


@contextmanager
def steady_process() -> Iterator[SteadyProcess]:
    """The process's timed reloads under the block's control (see the module's docstring); the ages
    are restored when it ends."""
    with pytest.MonkeyPatch.context() as patch:
        yield SteadyProcess(patch)
