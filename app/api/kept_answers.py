"""The app's kept anonymous answers of the directory's reads (``app.web.answer_cache.AnswerCache``,
one mechanism): one instance for the search and one for the HSDS read API, so that a harvester paging
the HSDS services in full cannot evict the hot search answers from a shared entry and byte cap. Each
is made on its first request from the directory's cache settings; with
``directory_answer_cache_entries`` 0 neither keeps anything, and those reads answer ``no-store``."""

from __future__ import annotations

from fastapi import Request

from app.web.answer_cache import AnswerCache


def directory_answers(request: Request) -> AnswerCache:
    """The directory search's kept answers."""
    return _kept(request, "directory_answers")


def hsds_answers(request: Request) -> AnswerCache:
    """The HSDS read API's kept answers."""
    return _kept(request, "hsds_answers")


def _kept(request: Request, name: str) -> AnswerCache:
    state = request.app.state
    answers: AnswerCache | None = getattr(state, name, None)
    if answers is None:
        settings = state.settings
        answers = AnswerCache(
            entries=settings.directory_answer_cache_entries,
            lifetime=settings.directory_answer_cache_seconds,
            max_age=settings.directory_cache_max_age_seconds,
        )
        setattr(state, name, answers)
    return answers
