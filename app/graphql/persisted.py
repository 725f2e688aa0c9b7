"""Persisted queries: documents sent by their SHA-256 (Apollo's Automatic Persisted Queries).

A client sends ``extensions: {"persistedQuery": {"version": 1, "sha256Hash": "<hex>"}}``, by POST or
GET, without the query text. The server knows the document when it is one of the front-end's
(``app/graphql/persisted/*.graphql``: the allowlist, hashed over each file's exact text) or when a
client of this process sent it before with its text and hash (registered, up to
``REGISTERED_MAX`` documents, least recently used out); otherwise the answer is the error
``PersistedQueryNotFound`` (code ``PERSISTED_QUERY_NOT_FOUND``), on which a client sends the hash
again with the text. A text that does not hash to the sent hash is refused (``BAD_USER_INPUT``).

With ``graphql_persisted_only`` (production) an anonymous caller runs allowlisted documents only,
sent by hash or with their exact text: no ad-hoc query, however cheap, and nothing it registers.
Signed-in callers (workers, partners, analysts) may send any query the limits allow.

``PersistedQueries`` is a schema extension: on an operation it puts the document in place of the
missing query text before the parser runs (Strawberry's ``on_operation`` hook, public API).
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

DOCUMENTS = Path(__file__).parent / "persisted"
REGISTERED_MAX = 1000
_SHA256 = re.compile(r"[0-9a-f]{64}")


def sha256(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


def allowlist(directory: Path = DOCUMENTS) -> dict[str, str]:
    """The front-end's documents by hash: each ``*.graphql`` file's exact text."""
    documents = (path.read_text(encoding="utf-8") for path in sorted(directory.glob("*.graphql")))
    return {sha256(document): document for document in documents}


class Documents:
    """The documents a hash may name: the allowlist and what clients registered (per process)."""

    def __init__(self, allowed: Mapping[str, str], persisted_only: bool) -> None:
        self.allowed = dict(allowed)
        self.persisted_only = persisted_only
        self._registered: OrderedDict[str, str] = OrderedDict()

    def resolve(self, query: str | None, extensions: Mapping[str, Any] | None, anonymous: bool) -> str | None:
        """The document to run, or a GraphQLError saying why none runs."""
        restricted = anonymous and self.persisted_only
        persisted = (extensions or {}).get("persistedQuery")
        if persisted is None:
            if restricted and (query is None or sha256(query) not in self.allowed):
                raise _only_persisted()
            return query
        digest = _hash_of(persisted)
        if query is None:
            return self._known(digest, restricted)
        if sha256(query) != digest:
            raise _bad_input("extensions.persistedQuery.sha256Hash", "is not the SHA-256 of the query.")
        if digest not in self.allowed:
            if restricted:
                raise _only_persisted()
            self._register(digest, query)
        return query

    def _known(self, digest: str, restricted: bool) -> str:
        document = self.allowed.get(digest)
        if document is None and not restricted:
            document = self._registered.get(digest)
            if document is not None:
                self._registered.move_to_end(digest)
        if document is None:
            raise GraphQLError("PersistedQueryNotFound", extensions={"code": "PERSISTED_QUERY_NOT_FOUND"})
        return document

    def _register(self, digest: str, query: str) -> None:
        self._registered[digest] = query
        self._registered.move_to_end(digest)
        while len(self._registered) > REGISTERED_MAX:
            self._registered.popitem(last=False)


def _hash_of(persisted: object) -> str:
    if not isinstance(persisted, dict) or persisted.get("version") != 1:
        raise _bad_input("extensions.persistedQuery.version", "must be 1.")
    digest = persisted.get("sha256Hash")
    if not isinstance(digest, str) or _SHA256.fullmatch(digest) is None:
        raise _bad_input("extensions.persistedQuery.sha256Hash", "must be 64 lower-case hex digits.")
    return digest


def _bad_input(field: str, rule: str) -> GraphQLError:
    return GraphQLError(f"{field} {rule}", extensions={"code": "BAD_USER_INPUT", "field": field})


def _only_persisted() -> GraphQLError:
    return GraphQLError(
        "Anonymous callers may only run the published (persisted) queries.",
        extensions={"code": "PERSISTED_QUERY_REQUIRED"},
    )


class PersistedQueries(SchemaExtension):
    """Puts the persisted document in place of the query text, before parsing and validation."""

    def __init__(self, documents: Documents) -> None:
        self.documents = documents

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        anonymous = getattr(context.context, "principal", None) is None
        extensions = context.operation_extensions
        context.query = self.documents.resolve(context.query, extensions, anonymous)
        yield
