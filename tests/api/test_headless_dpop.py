"""Apps signing in through allauth headless with DPoP (api.headless.dpop_checked, RFC 9449): a
proof sent with the sign-in binds the app's token family to its key, as at the token endpoints:
the server's nonce is demanded first, a bad proof signs nobody in, and allauth's refresh endpoint
refreshes a bound family only with a proof of its key. Real HTTP to the emulators."""

import json
from http import HTTPStatus

import pytest
from allauth.socialaccount.models import SocialAccount, SocialApp
from django.test import Client as HttpClient

from accounts.flow_steps import APP_PROCESS
from accounts.models import User
from api.headless import SIGN_IN_VIEWS
from api.models import TokenFamily
from tests.api.conftest import bearer
from tests.api.test_headless import (
    APP,
    GOOGLE_APP,
    alan_with_an_authenticator,
    google_id_token,
    hand_over,
)
from tests.conftest import OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_PROVIDER_ID
from tests.dpop import DpopSigner
from tests.emulators.oauth import GOOGLE, approve, exchange, parse_token_response

pytestmark = pytest.mark.django_db

SERVER = "http://testserver"
PROVIDER_TOKEN_URL = f"{SERVER}{APP}/auth/provider/token"
REFRESH_URL = f"{SERVER}{APP}/tokens/refresh"


def nonce_for(signer: DpopSigner, url: str, post) -> str:
    """The server's nonce, as a client learns it: its first proof is answered use_dpop_nonce."""
    first = post(HTTP_DPOP=signer.proof("POST", url))
    assert first.status_code == HTTPStatus.BAD_REQUEST
    assert first.json()["errors"][0]["code"] == "use_dpop_nonce"
    return first["DPoP-Nonce"]


def signed_in_with_dpop(emulator: str, signer: DpopSigner):
    token = {"client_id": GOOGLE_APP, "id_token": google_id_token(emulator)}
    nonce = nonce_for(signer, PROVIDER_TOKEN_URL, lambda **proof: hand_over(token, **proof))
    return hand_over(token, HTTP_DPOP=signer.proof("POST", PROVIDER_TOKEN_URL, nonce=nonce))


def refresh(refresh_token: str, **headers):
    return HttpClient().post(
        f"{APP}/tokens/refresh",
        json.dumps({"refresh_token": refresh_token}),
        content_type="application/json",
        **headers,
    )


def dpop_me(access_token: str, signer: DpopSigner):
    proof = signer.proof("GET", f"{SERVER}/api/me/", access_token=access_token)
    return HttpClient().get("/api/me/", HTTP_AUTHORIZATION=f"DPoP {access_token}", HTTP_DPOP=proof)


def test_a_first_proof_gets_the_nonce_and_signs_nobody_in(emulator):
    token = {"client_id": GOOGLE_APP, "id_token": google_id_token(emulator)}

    response = hand_over(token, HTTP_DPOP=DpopSigner().proof("POST", PROVIDER_TOKEN_URL))

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response["DPoP-Nonce"]
    assert not User.objects.exists()
    assert not TokenFamily.objects.exists()


def test_a_proof_with_the_nonce_binds_the_apps_family_to_its_key(emulator):
    signer = DpopSigner()

    response = signed_in_with_dpop(emulator, signer)

    assert response.status_code == HTTPStatus.OK, response.content
    assert response["DPoP-Nonce"]
    meta = response.json()["meta"]
    assert meta["token_type"] == "DPoP"
    family = TokenFamily.objects.get()
    assert (family.origin, family.dpop_jkt) == (TokenFamily.Origin.APP, signer.jkt)
    assert dpop_me(meta["access_token"], signer).json()["authenticated_by"] == "dpop"
    stolen = HttpClient().get("/api/me/", **bearer(meta["access_token"]))
    assert stolen.status_code == HTTPStatus.UNAUTHORIZED
    assert 'error="invalid_token"' in stolen["WWW-Authenticate"]


@pytest.mark.parametrize("wrong", ["another URL", "another method", "no nonce"])
def test_a_bad_proof_signs_nobody_in_and_creates_nothing(emulator, wrong):
    signer = DpopSigner()
    token = {"client_id": GOOGLE_APP, "id_token": google_id_token(emulator)}
    nonce = nonce_for(signer, PROVIDER_TOKEN_URL, lambda **proof: hand_over(token, **proof))
    proof = {
        "another URL": signer.proof("POST", f"{SERVER}/api/auth/token/", nonce=nonce),
        "another method": signer.proof("GET", PROVIDER_TOKEN_URL, nonce=nonce),
        "no nonce": signer.proof("POST", PROVIDER_TOKEN_URL),
    }[wrong]

    response = hand_over(token, HTTP_DPOP=proof)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["errors"][0]["code"] in {"invalid_dpop_proof", "use_dpop_nonce"}
    assert not User.objects.exists()
    assert not SocialAccount.objects.exists()
    assert not TokenFamily.objects.exists()


def test_allauths_refresh_needs_a_proof_of_the_bound_key(emulator):
    signer = DpopSigner()
    meta = signed_in_with_dpop(emulator, signer).json()["meta"]
    family = TokenFamily.objects.get()

    without = refresh(meta["refresh_token"])
    thief = DpopSigner()
    nonce = nonce_for(thief, REFRESH_URL, lambda **proof: refresh(meta["refresh_token"], **proof))
    another_key = refresh(
        meta["refresh_token"], HTTP_DPOP=thief.proof("POST", REFRESH_URL, nonce=nonce)
    )

    assert without.status_code == another_key.status_code == HTTPStatus.BAD_REQUEST
    family.refresh_from_db()
    assert family.revoked_at is None
    nonce = nonce_for(signer, REFRESH_URL, lambda **proof: refresh(meta["refresh_token"], **proof))
    rotated = refresh(
        meta["refresh_token"], HTTP_DPOP=signer.proof("POST", REFRESH_URL, nonce=nonce)
    )
    assert rotated.status_code == HTTPStatus.OK, rotated.content
    assert rotated["DPoP-Nonce"]
    access = rotated.json()["data"]["access_token"]
    assert dpop_me(access, signer).status_code == HTTPStatus.OK
    assert HttpClient().get("/api/me/", **bearer(access)).status_code == HTTPStatus.UNAUTHORIZED


def test_a_password_sign_in_binds_its_family_too():
    from allauth.account.models import EmailAddress

    person = User.objects.create_user(
        username="grace", email="grace@example.com", password="correct horse battery"
    )
    EmailAddress.objects.create(user=person, email=person.email, verified=True, primary=True)
    signer = DpopSigner()
    url = f"{SERVER}{APP}/auth/login"

    def log_in(**proof):
        return HttpClient().post(
            f"{APP}/auth/login",
            json.dumps({"email": person.email, "password": "correct horse battery"}),
            content_type="application/json",
            **proof,
        )

    nonce = nonce_for(signer, url, log_in)
    response = log_in(HTTP_DPOP=signer.proof("POST", url, nonce=nonce))

    assert response.status_code == HTTPStatus.OK, response.content
    assert response.json()["meta"]["token_type"] == "DPoP"
    assert TokenFamily.objects.get(user=person).dpop_jkt == signer.jkt


@pytest.fixture
def oidc_app(emulator):
    """An in-house OpenID Connect provider as an admin registers it (the Google emulator's
    discovery document stands in for it)."""
    app = SocialApp.objects.create(
        provider="openid_connect",
        provider_id=OIDC_PROVIDER_ID,
        name="In-house",
        client_id=OIDC_CLIENT_ID,
        secret=OIDC_CLIENT_SECRET,
        settings={"server_url": f"{emulator}/google"},
    )
    app.sites.add(1)
    return app


def test_an_openid_connect_providers_id_token_is_recorded_as_its_own(emulator, oidc_app):
    client = {
        "client_id": OIDC_CLIENT_ID,
        "client_secret": OIDC_CLIENT_SECRET,
        "redirect_uris": [f"{SERVER}/accounts/oidc/{OIDC_PROVIDER_ID}/login/callback/"],
    }
    answer = exchange(emulator, approve(emulator, GOOGLE, "alan", client=client))
    id_token = parse_token_response(answer)["id_token"]

    response = hand_over(
        {"client_id": OIDC_CLIENT_ID, "id_token": id_token}, provider=OIDC_PROVIDER_ID
    )

    assert response.status_code == HTTPStatus.OK, response.content
    family = TokenFamily.objects.get()
    assert family.name == "App sign-in with a In-house ID token"
    checked = family.user.oauth_flows.get(process=APP_PROCESS).steps[2]["detail"]
    assert checked["credential"] == "id_token"
    assert "OpenIDConnectProvider" in checked["verified"]
    assert "GitHub" not in json.dumps(checked)
    assert "applications" not in json.dumps(checked)


def test_after_a_second_factor_the_proof_sent_with_the_code_binds_the_family(emulator, settings):
    from tests.conftest import totp_code

    _, secret = alan_with_an_authenticator(settings)
    signer = DpopSigner()
    pending = signed_in_with_dpop(emulator, signer)
    assert pending.status_code == HTTPStatus.UNAUTHORIZED
    assert not TokenFamily.objects.exists()
    session = {"HTTP_X_SESSION_TOKEN": pending.json()["meta"]["session_token"]}
    url = f"{SERVER}{APP}/auth/2fa/authenticate"

    def authenticate(**proof):
        return HttpClient().post(
            f"{APP}/auth/2fa/authenticate",
            {"code": totp_code(secret)},
            "application/json",
            **session,
            **proof,
        )

    nonce = pending["DPoP-Nonce"]
    done = authenticate(HTTP_DPOP=signer.proof("POST", url, nonce=nonce))

    assert done.status_code == HTTPStatus.OK, done.content
    assert done.json()["meta"]["token_type"] == "DPoP"
    assert TokenFamily.objects.get().dpop_jkt == signer.jkt


@pytest.mark.parametrize("route", [*SIGN_IN_VIEWS, "auth/provider/token", "tokens/refresh"])
def test_every_app_endpoint_that_hands_out_tokens_checks_a_proof_first(route):
    url = f"{SERVER}{APP}/{route}"

    response = HttpClient().post(
        f"{APP}/{route}", "{}", "application/json", HTTP_DPOP=DpopSigner().proof("POST", url)
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["errors"][0]["code"] == "use_dpop_nonce"
    assert response["DPoP-Nonce"]
