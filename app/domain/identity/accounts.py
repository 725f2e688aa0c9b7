"""Accounts: the people (users) and machine clients (OAuth clients) that sign in to Wijkwerk."""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.domain.errors import Conflict, FieldError, ValidationFailed
from app.domain.identity import repository as identity_repo
from app.domain.identity import rules
from app.domain.identity.models import ClientAuthMethod, OAuthClient, User
from app.domain.identity.passwords import SecretHasher
from app.domain.identity.refresh import revoke_user_refresh_tokens
from app.domain.identity.schemas import ClientCreate, ClientUpdate, UserCreate, UserRead, UserUpdate
from app.domain.organisation import repository as repo
from app.domain.organisation.common import (
    Key,
    changed_fields,
    flush,
    page,
    raise_if,
    require,
)
from app.domain.organisation.models import PartnerOrganisation, Worker
from app.domain.unit_of_work.work import UnitOfWork
from app.security.scopes import Role, allowed_scopes

# -- users (people who sign in) --------------------------------------------------------------------


def user_read(user: User) -> UserRead:
    return UserRead.model_validate(user).model_copy(update={"has_password": user.password_hash is not None})


async def _check_user_links(session: AsyncSession, user: User, changed: set[str]) -> None:
    """Role rules, and the unique links (username, worker, IdP subject) with a 409 naming each."""
    raise_if(
        rules.check_user_role(Role(user.role), bsn_read=user.bsn_read, has_worker=user.worker_id is not None)
    )
    if "worker_id" in changed and user.worker_id is not None:
        if await repo.get(session, Worker, user.worker_id) is None:
            raise ValidationFailed([FieldError(("body", "worker_id"), "No such worker.", "unknown_worker")])
        other = await identity_repo.user_by(session, User.worker_id, user.worker_id)
        if other is not None and other.id != user.id:
            raise Conflict("This worker already has a user account.", rule="worker_has_user")
    if "external_subject" in changed and user.external_subject is not None:
        other = await identity_repo.user_by(session, User.external_subject, user.external_subject)
        if other is not None and other.id != user.id:
            raise Conflict("Another user has this external subject.", rule="external_subject_taken")


async def create_user(uow: UnitOfWork, data: UserCreate, hasher: SecretHasher) -> User:
    if data.password is not None:
        raise_if(rules.check_password(data.password))
    if await identity_repo.user_by(uow.session, User.username, data.username):
        raise Conflict("This username is taken.", rule="username_taken")
    user = User(
        username=data.username,
        display_name=data.display_name,
        role=str(data.role),
        worker_id=data.worker_id,
        bsn_read=data.bsn_read,
        external_subject=data.external_subject,
        active=data.active,
    )
    await _check_user_links(uow.session, user, {"worker_id", "external_subject"})
    if data.password is not None:
        user.password_hash = await hasher.hash_in_thread(data.password)
    uow.session.add(user)
    await flush(uow.session, "username_taken", "This username, worker or external subject is taken.")
    return user


async def get_user(uow: UnitOfWork, user_id: uuid.UUID) -> User:
    return await require(uow.session, User, user_id, "user")


async def update_user(uow: UnitOfWork, user_id: uuid.UUID, data: UserUpdate, hasher: SecretHasher) -> User:
    user = await get_user(uow, user_id)
    changes = changed_fields(data, nullable=frozenset({"worker_id", "external_subject", "password"}))
    password = changes.pop("password", None)
    if password is not None:
        raise_if(rules.check_password(password))
    for name, value in changes.items():
        setattr(user, name, str(value) if name == "role" else value)
    await _check_user_links(uow.session, user, set(changes))
    if "password" in data.model_fields_set:
        user.password_hash = await hasher.hash_in_thread(password) if password is not None else None
    await flush(uow.session, "user_link_taken", "This worker or external subject is linked to another user.")
    # Deactivated, or a new password (e.g. after a lost phone): the person's app sessions end now.
    if ("active" in changes and not user.active) or "password" in data.model_fields_set:
        await revoke_user_refresh_tokens(uow.session, user.id)
    return user


async def set_password(uow: UnitOfWork, user: User, password: str, hasher: SecretHasher) -> None:
    raise_if(rules.check_password(password))
    user.password_hash = await hasher.hash_in_thread(password)
    await uow.session.flush()


async def list_users(
    uow: UnitOfWork, *, limit: int, after: Key | None = None, role: Role | None = None
) -> list[User]:
    """By username (``after``: the (username, id) of the last one seen)."""
    where = [col(User.role) == str(role)] if role is not None else []
    return await page(uow.session, User, after, limit, where, order=(col(User.username), col(User.id)))


# -- OAuth clients ---------------------------------------------------------------------------------


def _client_scope_errors(role: Role | None, scopes: list[str], redirect_uris: list[str]) -> list[FieldError]:
    errors = rules.check_client_scopes(role, scopes, ("body", "allowed_scopes"))
    for index, uri in enumerate(redirect_uris):
        errors += rules.check_redirect_uri(uri, ("body", "redirect_uris", index))
    return errors


async def _new_secret(client: OAuthClient, hasher: SecretHasher) -> str:
    secret = secrets.token_urlsafe(32)
    client.secret_hash = await hasher.hash_in_thread(secret)
    return secret


async def create_client(
    uow: UnitOfWork, data: ClientCreate, hasher: SecretHasher
) -> tuple[OAuthClient, str | None]:
    """Register a client. Returns it and, for client_secret_basic, the secret (shown once)."""
    role = data.role
    method = data.auth_method or rules.default_auth_method(role, data.jwks is not None)
    if data.allowed_scopes is not None:
        scopes = list(dict.fromkeys(data.allowed_scopes))
    else:  # a machine client gets its role's scopes; a public client narrows nothing by default
        scopes = sorted(str(s) for s in allowed_scopes(role)) if role else []
    errors = rules.check_client_setup(
        role,
        method,
        has_jwks=data.jwks is not None,
        redirect_uris=data.redirect_uris,
        has_organisation=data.organisation_id is not None,
    )
    errors += _client_scope_errors(role, scopes, data.redirect_uris)
    if data.jwks is not None:
        errors += rules.check_jwks(data.jwks)
    raise_if(errors)
    organisation_id = data.organisation_id
    if organisation_id and await repo.get(uow.session, PartnerOrganisation, organisation_id) is None:
        message = "No such partner organisation."
        raise ValidationFailed([FieldError(("body", "organisation_id"), message, "unknown_organisation")])
    client_id = data.client_id or f"{role or 'app'}-{secrets.token_hex(8)}"
    if await identity_repo.client_by_client_id(uow.session, client_id):
        raise Conflict("A client with this client_id exists.", rule="client_id_taken")
    client = OAuthClient(
        client_id=client_id,
        name=data.name,
        role=str(role) if role else None,
        organisation_id=data.organisation_id,
        auth_method=str(method),
        jwks=rules.normalised_jwks(data.jwks) if data.jwks is not None else None,
        redirect_uris=list(data.redirect_uris),
        allowed_scopes=scopes,
        rate_limit_per_minute=data.rate_limit_per_minute,
    )
    secret = await _new_secret(client, hasher) if method is ClientAuthMethod.client_secret_basic else None
    uow.session.add(client)
    await flush(uow.session, "client_id_taken", "A client with this client_id exists.")
    return client, secret


async def get_client(uow: UnitOfWork, client_pk: uuid.UUID) -> OAuthClient:
    return await require(uow.session, OAuthClient, client_pk, "client")


async def update_client(uow: UnitOfWork, client_pk: uuid.UUID, data: ClientUpdate) -> OAuthClient:
    client = await get_client(uow, client_pk)
    changes = changed_fields(data, nullable=frozenset({"rate_limit_per_minute"}))
    role = Role(client.role) if client.role else None
    if "allowed_scopes" in changes:
        changes["allowed_scopes"] = list(dict.fromkeys(changes["allowed_scopes"]))
    redirect_uris = changes.get("redirect_uris", client.redirect_uris)
    errors = _client_scope_errors(role, changes.get("allowed_scopes", []), changes.get("redirect_uris", []))
    if role is None and not redirect_uris:
        errors.append(
            FieldError(("body", "redirect_uris"), "A public client needs one.", "redirect_uri_required")
        )
    if role is not None and redirect_uris:
        message = "Machine clients have no redirect URIs."
        errors.append(FieldError(("body", "redirect_uris"), message, "redirect_uri_not_allowed"))
    raise_if(errors)
    for name, value in changes.items():
        setattr(client, name, value)
    await uow.session.flush()
    return client


async def rotate_client_secret(
    uow: UnitOfWork, client_pk: uuid.UUID, hasher: SecretHasher
) -> tuple[OAuthClient, str]:
    """A new secret for a client_secret_basic client; the old one stops working at once."""
    client = await get_client(uow, client_pk)
    if client.auth_method != ClientAuthMethod.client_secret_basic:
        raise Conflict("Only client_secret_basic clients have a secret.", rule="client_has_no_secret")
    secret = await _new_secret(client, hasher)
    await uow.session.flush()
    return client, secret


async def set_client_jwks(uow: UnitOfWork, client_pk: uuid.UUID, jwks: dict[str, Any]) -> OAuthClient:
    """Register a machine client's public keys: it authenticates with private_key_jwt from now on."""
    client = await get_client(uow, client_pk)
    if client.role is None:
        raise Conflict("A public client does not authenticate with keys.", rule="public_client_auth")
    raise_if(rules.check_jwks(jwks))
    client.jwks = rules.normalised_jwks(jwks)
    client.auth_method = str(ClientAuthMethod.private_key_jwt)
    client.secret_hash = None  # one credential per client: the secret no longer works
    await uow.session.flush()
    return client


async def list_clients(
    uow: UnitOfWork,
    *,
    limit: int,
    after: Key | None = None,
    role: Role | None = None,
    organisation_id: uuid.UUID | None = None,
) -> list[OAuthClient]:
    """By client_id (``after``: the (client_id, id) of the last one seen)."""
    where = []
    if role is not None:
        where.append(col(OAuthClient.role) == str(role))
    if organisation_id is not None:
        where.append(col(OAuthClient.organisation_id) == organisation_id)
    order = (col(OAuthClient.client_id), col(OAuthClient.id))
    return await page(uow.session, OAuthClient, after, limit, where, order=order)
