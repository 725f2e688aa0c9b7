"""The organisation context's pure rules, without a database."""

from __future__ import annotations

import pytest
from joserfc.jwk import ECKey, RSAKey

from app.domain.identity import rules as identity_rules
from app.domain.identity.models import ClientAuthMethod
from app.domain.organisation import rules
from app.domain.organisation.models import AreaLevel
from app.security.scopes import Role


def _rules(errors: list[rules.FieldError]) -> set[str]:
    return {e.rule for e in errors}


@pytest.mark.parametrize(
    ("code", "level"),
    [
        ("WK999901", AreaLevel.wijk),
        ("BU99990101", AreaLevel.buurt),
        ("WK99990", None),
        ("BU9999010", None),
        ("wk999901", None),
        ("GM9999", None),
        ("WK9999011", None),
    ],
)
def test_area_level_follows_from_the_cbs_code(code: str, level: AreaLevel | None) -> None:
    assert rules.area_level(code) == level


@pytest.mark.parametrize("code", ["GM0363", "GM9999"])
def test_valid_municipality_codes(code: str) -> None:
    assert rules.check_municipality_code(code) == []


@pytest.mark.parametrize("code", ["GM363", "GM03630", "gm0363", "XX0363", ""])
def test_invalid_municipality_codes(code: str) -> None:
    assert _rules(rules.check_municipality_code(code)) == {"cbs_code_format"}


def test_a_wijk_continues_its_municipality_digits() -> None:
    assert rules.check_area_code("WK999901", "GM9999", None) == []
    assert _rules(rules.check_area_code("WK123401", "GM9999", None)) == {"cbs_code_nesting"}


def test_a_wijk_has_no_parent() -> None:
    errors = rules.check_area_code("WK999901", "GM9999", "WK999902")
    assert _rules(errors) == {"wijk_has_no_parent"}
    assert errors[0].loc == ("body", "parent_id")


def test_a_buurt_continues_its_wijk_digits_and_sits_under_it() -> None:
    assert rules.check_area_code("BU99990103", "GM9999", "WK999901") == []
    assert _rules(rules.check_area_code("BU99990203", "GM9999", "WK999901")) == {"cbs_code_nesting"}
    assert _rules(rules.check_area_code("BU99990103", "GM9999", None)) == {"buurt_needs_wijk"}
    assert _rules(rules.check_area_code("BU99990103", "GM9999", "BU99990102")) == {"parent_not_wijk"}


def test_parent_wijk_code() -> None:
    assert rules.parent_wijk_code("BU99990103") == "WK999901"


def test_bad_area_code_format_names_the_field() -> None:
    errors = rules.check_area_code("XY12", "GM9999", None)
    assert _rules(errors) == {"cbs_code_format"}
    assert errors[0].loc == ("body", "code")


def test_client_scopes_stay_within_the_role() -> None:
    assert (
        identity_rules.check_client_scopes(Role.partner, ["referrals:read"], ("body", "allowed_scopes")) == []
    )
    errors = identity_rules.check_client_scopes(
        Role.partner, ["referrals:read", "cases:read"], ("body", "allowed_scopes")
    )
    assert [(e.loc, e.rule) for e in errors] == [(("body", "allowed_scopes", 1), "scope_not_in_role")]
    assert _rules(identity_rules.check_client_scopes(Role.analyst, ["admin"], ("x",))) == {
        "scope_not_in_role"
    }


def test_public_clients_may_carry_any_person_scope_but_not_machine_only_ones() -> None:
    assert identity_rules.check_client_scopes(None, ["cases:read", "bsn:read", "audit:read"], ("x",)) == []
    assert _rules(identity_rules.check_client_scopes(None, ["stats:read"], ("x",))) == {"scope_not_in_role"}


@pytest.mark.parametrize("role", [Role.generalist, Role.team_lead])
def test_bsn_read_and_worker_links_for_caseworkers(role: Role) -> None:
    assert identity_rules.check_user_role(role, bsn_read=True, has_worker=True) == []


@pytest.mark.parametrize("role", [Role.resident, Role.admin, Role.privacy_officer, Role.network_coordinator])
def test_bsn_read_and_worker_links_refused_for_others(role: Role) -> None:
    errors = identity_rules.check_user_role(role, bsn_read=True, has_worker=True)
    assert _rules(errors) == {"bsn_read_not_eligible", "worker_link_not_allowed"}
    assert {e.loc for e in errors} == {("body", "bsn_read"), ("body", "worker_id")}


@pytest.mark.parametrize("role", [Role.partner, Role.analyst])
def test_machine_roles_are_not_people(role: Role) -> None:
    assert _rules(identity_rules.check_user_role(role, bsn_read=False, has_worker=False)) == {
        "not_a_person_role"
    }


def test_password_length() -> None:
    assert identity_rules.check_password("x" * 12) == []
    assert _rules(identity_rules.check_password("x" * 11)) == {"password_too_short"}


def test_specialisms_are_normalised() -> None:
    assert rules.normalise_specialisms([" Debts ", "debts", "Youth  care", " "]) == ["debts", "youth care"]


def test_default_auth_method() -> None:
    assert identity_rules.default_auth_method(None, False) is ClientAuthMethod.none
    assert identity_rules.default_auth_method(Role.partner, False) is ClientAuthMethod.client_secret_basic
    assert identity_rules.default_auth_method(Role.partner, True) is ClientAuthMethod.private_key_jwt


def _setup(
    role: Role | None,
    method: ClientAuthMethod,
    *,
    has_jwks: bool = False,
    redirect_uris: list[str] | None = None,
    has_organisation: bool = False,
) -> set[str]:
    return _rules(
        identity_rules.check_client_setup(
            role,
            method,
            has_jwks=has_jwks,
            redirect_uris=redirect_uris or [],
            has_organisation=has_organisation,
        )
    )


def test_client_setup_rules() -> None:
    secret = ClientAuthMethod.client_secret_basic
    assert _setup(Role.partner, secret, has_organisation=True) == set()
    assert _setup(Role.analyst, secret) == set()
    assert _setup(None, ClientAuthMethod.none, redirect_uris=["http://127.0.0.1/cb"]) == set()
    assert _setup(Role.partner, secret) == {"organisation_required"}
    assert _setup(Role.analyst, secret, has_organisation=True) == {"organisation_not_allowed"}
    assert _setup(Role.generalist, secret) == {"not_a_machine_role"}
    assert _setup(None, secret, redirect_uris=["http://127.0.0.1/cb"]) == {"public_client_auth"}
    assert _setup(None, ClientAuthMethod.none) == {"redirect_uri_required"}
    assert _setup(Role.analyst, ClientAuthMethod.none) == {"machine_client_auth"}
    assert _setup(Role.analyst, secret, redirect_uris=["https://x.test/cb"]) == {"redirect_uri_not_allowed"}
    assert _setup(Role.analyst, ClientAuthMethod.private_key_jwt) == {"jwks_required"}
    assert _setup(Role.analyst, secret, has_jwks=True) == {"jwks_not_allowed"}


@pytest.mark.parametrize(
    "uri",
    [
        "https://app.example.nl/callback",
        "http://127.0.0.1:8765/callback",
        "http://localhost/cb",
        "nl.wijkwerk.app:/cb",
    ],
)
def test_acceptable_redirect_uris(uri: str) -> None:
    assert identity_rules.check_redirect_uri(uri, ("x",)) == []


@pytest.mark.parametrize(
    "uri",
    [
        "http://app.example.nl/callback",
        "https://app.example.nl/cb#frag",
        "/relative",
        "myapp:/cb",
        "javascript:alert(1)",
    ],
)
def test_refused_redirect_uris(uri: str) -> None:
    assert _rules(identity_rules.check_redirect_uri(uri, ("x",))) == {"redirect_uri_invalid"}


def _public(key: ECKey | RSAKey) -> dict[str, object]:
    return dict(key.as_dict(private=False))


def test_jwks_with_public_ec_and_rsa_keys_is_accepted() -> None:
    ec = ECKey.generate_key("P-256", parameters={"kid": "ec-1", "alg": "ES256"}, private=True)
    rsa = RSAKey.generate_key(2048, parameters={"kid": "rsa-1", "alg": "RS256"}, private=True)
    assert identity_rules.check_jwks({"keys": [_public(ec), _public(rsa)]}) == []


def test_jwks_problems_are_named_per_key() -> None:
    ec = ECKey.generate_key("P-256", parameters={"kid": "k"}, private=True)
    private = dict(ec.as_dict(private=True))
    no_kid = {k: v for k, v in _public(ec).items() if k != "kid"}
    hs = {**_public(ec), "kid": "other", "alg": "HS256"}
    enc = {**_public(ec), "kid": "enc", "use": "enc"}
    p384 = dict(ECKey.generate_key("P-384", parameters={"kid": "p384"}, private=True).as_dict(private=False))
    garbage = {"kty": "EC", "crv": "P-256", "kid": "garbage", "x": "AAAA", "y": "AAAA"}
    oct_key = {
        "kty": "OKP",
        "crv": "Ed25519",
        "kid": "okp",
        "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
    }
    errors = identity_rules.check_jwks({"keys": [private, no_kid, hs, enc, p384]})
    assert [e.rule for e in errors] == ["jwk_private", "jwk_kid", "jwk_alg", "jwk_use", "jwk_curve"]
    assert errors[2].loc == ("body", "jwks", "keys", 2)
    assert _rules(identity_rules.check_jwks({"keys": [garbage, oct_key]})) == {"jwk_invalid", "jwk_kty"}


@pytest.mark.filterwarnings("ignore:Key size")
def test_small_rsa_keys_and_duplicate_kids_are_refused() -> None:
    small = RSAKey.generate_key(1024, parameters={"kid": "small"}, private=True, auto_kid=False)
    ec = _public(ECKey.generate_key("P-256", parameters={"kid": "same"}, private=True))
    assert _rules(identity_rules.check_jwks({"keys": [_public(small)]})) == {"jwk_size"}
    assert _rules(identity_rules.check_jwks({"keys": [ec, dict(ec)]})) == {"jwk_kid"}


@pytest.mark.parametrize("jwks", [None, [], {}, {"keys": []}, {"keys": "x"}, {"keys": [{}] * 6}])
def test_jwks_must_be_a_small_key_set(jwks: object) -> None:
    assert _rules(identity_rules.check_jwks(jwks)) == {"jwks_invalid"}


def test_only_public_members_of_a_checked_jwks_are_kept() -> None:
    key = {**_public(ECKey.generate_key("P-256", parameters={"kid": "k1"}, private=True)), "x5u": "https://x"}
    assert identity_rules.check_jwks({"keys": [key], "extra": 1}) == []
    kept = identity_rules.normalised_jwks({"keys": [key], "extra": 1})
    assert set(kept) == {"keys"} and set(kept["keys"][0]) == {"kty", "kid", "crv", "x", "y"}


def test_key_ids_are_printable() -> None:
    key = {**_public(ECKey.generate_key("P-256", parameters={"kid": "k1"}, private=True)), "kid": "a\x00b"}
    assert _rules(identity_rules.check_jwks({"keys": [key]})) == {"jwk_kid"}
