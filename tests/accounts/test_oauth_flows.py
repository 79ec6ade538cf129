"""Complete GitHub and Google sign-ins against the emulators over real HTTP, and their recording."""

import json
import re
from html import escape
from http import HTTPStatus

import pytest
import requests
from allauth.socialaccount.models import SocialAccount

from accounts.flow_recording import PROVIDER_TOKEN_SESSION_KEY
from accounts.flow_steps import STEP_EXPLANATIONS, STEP_TITLES
from accounts.models import AuditEvent, OAuthFlowRecord, User
from tests.accounts.oauth_driver import consent, flow_start, sign_in
from tests.accounts.test_profile import answer_in_order

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("emulator")]

EMULATOR_SECRET = "test-emulator-client-secret"


def signed_in_user(client) -> User | None:
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id) if user_id else None


def test_github_sign_in_creates_the_account_and_a_server_session(client):
    response = sign_in(client, "github", "ada")

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/accounts/profile/"
    user = signed_in_user(client)
    assert user.email == "ada@example.com"
    assert user.emailaddress_set.get().verified
    assert not user.has_usable_password()
    account = SocialAccount.objects.get(user=user)
    assert (account.provider, account.uid) == ("github", "1001")
    assert AuditEvent.objects.filter(action="sign_in", subject=user).exists()


def test_google_sign_in_creates_the_account_from_the_id_token(client):
    sign_in(client, "google", "alan")

    user = signed_in_user(client)
    assert user.email == "alan@example.com"
    assert SocialAccount.objects.get(user=user).provider == "google"


def test_the_seven_steps_are_recorded_in_order_with_secrets_masked(client, emulator):
    start = flow_start(client, "github")
    answer = consent(start.authorize_url, {"identity": "ada"})
    client.get(answer.callback_path)

    record = OAuthFlowRecord.objects.get()
    numbers = [step["number"] for step in record.steps]
    assert numbers[:6] == [1, 2, 3, 4, 5, 6]
    assert set(numbers[6:]) == {7}
    steps = {step["number"]: step["detail"] for step in record.steps}
    assert steps[1]["client_id"] == "signin-lab-github-emulator"
    assert steps[1]["registered_in"] == "local emulator"
    assert steps[3]["state"] == steps[4]["state"] == start.state
    assert steps[3]["code_challenge_method"] == "S256"
    assert steps[3]["parameters"]["code_challenge"]
    assert "code_verifier" in steps[5]["parameters"]
    assert steps[6]["answer"]["access_token"].endswith("characters, masked)")
    api_calls = [step["detail"] for step in record.steps[6:]]
    assert any(call["request"].endswith("/user") for call in api_calls)
    assert api_calls[0]["authorization"].startswith("token gho_…(")
    stored = json.dumps(record.steps)
    assert EMULATOR_SECRET not in stored
    assert answer.code not in stored
    token = client.session[PROVIDER_TOKEN_SESSION_KEY]["token"]
    assert token not in stored


def test_pkce_reached_the_token_endpoint(client, emulator):
    sign_in(client, "github", "ada")

    token_requests = [
        entry
        for entry in requests.get(f"{emulator}/_emulator/requests", timeout=5).json()
        if entry["path"].endswith("/login/oauth/access_token")
    ]
    assert token_requests
    assert "code_verifier" in json.dumps(token_requests[-1])


def test_google_records_the_id_token_decoded_with_its_signature_masked(client):
    sign_in(client, "google", "alan")

    steps = {step["number"]: step["detail"] for step in OAuthFlowRecord.objects.get().steps}
    id_token = steps[6]["id_token"]
    assert id_token["header"]["alg"] == "RS256"
    assert id_token["header"]["kid"]
    assert id_token["claims"]["email"] == "alan@example.com"
    assert id_token["claims"]["aud"] == "signin-lab-google-emulator"
    assert id_token["signature"].endswith("characters, masked)")


def test_the_profile_shows_the_recorded_flow(client):
    sign_in(client, "github", "ada")

    html = client.get("/accounts/profile/").content.decode()

    assert "GitHub (local emulator)" in html
    assert html.count('class="flow-step"') == 7
    assert "Post the code to the provider&#x27;s token endpoint" in html
    assert EMULATOR_SECRET not in html


def shown_step_numbers(html: str) -> list[int]:
    """The numbers of the profile's step headings, in page order."""
    return [int(number) for number in re.findall(r"<h3>(\d)\. ", html)]


def test_the_profile_numbers_each_step_once_and_says_what_happened_and_why(client):
    sign_in(client, "github", "ada")

    html = client.get("/accounts/profile/").content.decode()

    assert shown_step_numbers(html) == [1, 2, 3, 4, 5, 6, 7]
    for number, explanation in STEP_EXPLANATIONS.items():
        assert f'<p class="flow-explanation">{escape(explanation)}</p>' in html, number
    # GitHub's step 7 is two calls (/user, then /user/emails), both under the one number.
    step_7 = html.split('id="step-7"')[1].split("</li>")[0]
    assert "2 calls" in step_7
    assert "Call 1 of 2" in step_7
    assert "Call 2 of 2" in step_7
    assert "/user/emails" in step_7


def test_after_an_id_token_step_7_is_shown_once_as_not_needed(client):
    sign_in(client, "google", "alan")

    html = client.get("/accounts/profile/").content.decode()

    assert shown_step_numbers(html) == [1, 2, 3, 4, 5, 6, 7]
    assert f"7. {escape(STEP_TITLES[7])}: not needed this time" in html


def test_the_exercise_checks_an_order_against_a_flow_that_skipped_step_7(client):
    sign_in(client, "google", "alan")
    client.get("/accounts/profile/flow-exercise/")
    seed = client.session["accounts.flow_exercise_seed"]
    canonical = [STEP_TITLES[n] for n in sorted(STEP_TITLES)]

    response = client.post("/accounts/profile/flow-exercise/", answer_in_order(seed, canonical))

    assert response.status_code == HTTPStatus.OK
    assert "Right: that is the order your sign-in took" in response.content.decode()


def call_the_provider_api(client) -> str:
    """Press the profile's button: the answer is on the profile it redirects to, at the button."""
    response = client.post("/accounts/profile/provider-api/")
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/accounts/profile/#provider-api"
    return client.get(response["Location"]).content.decode()


@pytest.mark.parametrize(
    ("provider", "identity", "expected"),
    [
        ("github", "ada", '"name": "analytical-engine"'),
        ("google", "alan", '"email": "alan@example.com"'),
    ],
)
def test_the_access_token_in_the_session_calls_the_provider_api_live(
    client, provider, identity, expected
):
    sign_in(client, provider, identity)
    token = client.session[PROVIDER_TOKEN_SESSION_KEY]["token"]

    html = call_the_provider_api(client)

    assert "Answer: HTTP 200" in html
    assert expected in html.replace("&quot;", '"')
    assert token not in html
    # Shown once: reloading the profile neither shows the answer again nor calls the provider.
    assert "Answer: HTTP" not in client.get("/accounts/profile/").content.decode()


def test_a_token_the_provider_no_longer_accepts_is_explained_with_the_way_to_a_new_one(client):
    """A restarted emulator forgets the tokens it issued, as GitHub refuses a revoked one: a
    token it never issued stands for both."""
    sign_in(client, "github", "ada")
    session = client.session
    session[PROVIDER_TOKEN_SESSION_KEY] = {"provider_id": "github", "token": "gho_" + "0" * 36}
    session.save()

    html = call_the_provider_api(client)

    assert "Answer: HTTP 401" in html
    assert "Bad credentials" in html
    assert "no longer accepts the access token this site held" in html
    assert "Sign in again to get a new one." in html
    assert "Sign in with GitHub (local emulator) again" in html
    assert 'action="/accounts/github/login/?process=login' in html

    sign_in(client, "github", "ada")

    assert "Answer: HTTP 200" in call_the_provider_api(client)


def test_the_provider_token_is_never_stored_in_the_database_and_leaves_at_sign_out(client):
    sign_in(client, "github", "ada")
    token = client.session[PROVIDER_TOKEN_SESSION_KEY]["token"]

    assert not SocialAccount.objects.get().socialtoken_set.exists()
    client.post("/accounts/logout/")

    assert PROVIDER_TOKEN_SESSION_KEY not in client.session
    assert token not in json.dumps(list(OAuthFlowRecord.objects.values_list("steps", flat=True)))


def test_the_session_id_changes_at_a_provider_sign_in(client):
    """OWASP ASVS V7: a new session identifier at authentication."""
    start = flow_start(client, "github")
    before = client.session.session_key
    answer = consent(start.authorize_url, {"identity": "ada"})

    client.get(answer.callback_path)

    assert client.session.session_key != before
    assert signed_in_user(client) is not None


@pytest.mark.parametrize("evil", ["https://evil.example", "//evil.example", "/\\evil.example"])
def test_next_pointing_elsewhere_never_leaves_the_site_after_a_provider_sign_in(client, evil):
    """RFC 9700 §4.11: no open redirector."""
    response = sign_in(client, "github", "ada", next=evil)

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/accounts/profile/"


def test_a_second_sign_in_with_the_same_identity_reuses_the_account(client):
    sign_in(client, "github", "ada")
    client.post("/accounts/logout/")

    sign_in(client, "github", "ada")

    assert User.objects.count() == 1
    assert OAuthFlowRecord.objects.count() == 2


def test_connecting_a_second_provider_from_the_profile(client):
    sign_in(client, "github", "ada")

    start = flow_start(client, "google", process="connect")
    answer = consent(start.authorize_url, {"identity": "alan"})
    client.get(answer.callback_path)

    user = signed_in_user(client)
    assert sorted(user.socialaccount_set.values_list("provider", flat=True)) == [
        "github",
        "google",
    ]
    assert OAuthFlowRecord.objects.filter(process="connect").exists()
