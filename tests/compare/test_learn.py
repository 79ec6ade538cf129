"""/learn/ (compare.learn, compare.views.learn_view): signed out, signed in with no recorded
sign-in, and after real GitHub and Google sign-ins through the emulators, each answer citing the
person's own recorded values."""

import datetime as dt
import html as html_module
import re
from http import HTTPStatus

import pytest
from allauth.socialaccount.providers.github.views import GitHubOAuth2Adapter

from accounts.flow_recording import PROVIDER_TOKEN_SESSION_KEY
from accounts.flow_steps import STEP_TITLES
from accounts.models import OAuthFlowRecord
from compare.learn import flow_facts
from tests.accounts.oauth_driver import sign_in

pytestmark = pytest.mark.django_db

# What the page teaches whoever reads it, record or not.
TAUGHT_TO_EVERYONE = [
    "The seven steps, in order",
    "Why step 7 cannot come before steps 5 and 6",
    "Authorization code against access token",
    "How PKCE binds the code",
    "Why OAuth instead of a password check here",
    "https://github.com/settings/applications",
    "https://myaccount.google.com/permissions",
    "Windows operating system's access token",
    "IndieAuth is a different protocol built on OAuth 2.0",
    "If anyone can decode a JWT, why is it secure?",
    'href="/.well-known/jwks.json"',
    'href="/compare/#decode"',
    "Encrypted (JWE)",
    "still a\n      bearer token",
    "Not yet available here.",
    'href="/compare/"',
]


def page_text(client) -> str:
    response = client.get("/learn/")
    assert response.status_code == HTTPStatus.OK
    return response.content.decode()


def test_signed_out_the_page_says_to_sign_in_first_and_still_teaches(client):
    html = page_text(client)

    assert "First, sign in with GitHub or Google" in html
    assert "Sign in with GitHub (local emulator)" in html
    assert '<input type="hidden" name="next" value="/learn/">' in html
    assert "make run" in html
    for taught in TAUGHT_TO_EVERYONE:
        assert taught in html, taught
    steps = html.split('data-testid="learn-steps"')[1].split("</ol>")[0]
    listed = [html_module.unescape(title) for title in re.findall(r"<li>([^<]+)</li>", steps)]
    assert listed == [STEP_TITLES[n] for n in range(1, 8)]
    assert "/accounts/profile/#step-" not in html


def test_signed_in_without_a_recorded_flow_the_page_offers_to_connect_a_provider(client, user):
    client.force_login(user)

    html = page_text(client)

    assert "no recorded third-party sign-in of yours yet" in html
    assert "Connect GitHub (local emulator)" in html
    assert "/accounts/github/login/?process=connect" in html
    for taught in TAUGHT_TO_EVERYONE:
        assert taught in html, taught


def test_the_navigation_links_to_the_page(client):
    html = client.get("/").content.decode()

    assert '<a href="/learn/">Learn</a>' in html


@pytest.mark.usefixtures("emulator")
class TestAfterAGitHubSignIn:
    @pytest.fixture
    def html(self, client) -> str:
        sign_in(client, "github", "ada")
        return page_text(client)

    @pytest.fixture
    def steps(self, client, html) -> dict[int, dict]:
        record = OAuthFlowRecord.objects.get()
        return {step["number"]: step["detail"] for step in reversed(record.steps)}

    def test_each_step_links_to_its_record_on_the_profile_with_its_timing(self, html):
        for number in range(1, 8):
            assert f'<a href="/accounts/profile/#step-{number}">' in html
        assert re.search(r"\+\d+\.\d ms, took \d+\.\d ms", html)

    def test_the_misordering_is_shown_with_the_values_of_this_flow(self, html, steps):
        misorder = html.split('data-testid="learn-misorder"')[1].split("</dl>")[0]

        assert steps[4]["code"] in misorder
        assert steps[6]["answer"]["access_token"] in misorder
        assert "GET " + steps[7]["request"].split(" ", 1)[1] in misorder
        assert steps[5]["request"].split(" ", 1)[1] in misorder

    def test_code_and_token_side_by_side_with_lifetimes_and_pkce(self, html, steps):
        table = html.split('data-testid="code-and-token"')[1].split("</table>")[0]

        assert '<th scope="col">Authorization code</th>' in table
        assert '<th scope="row">Where it travels</th>' in table
        assert "Front channel" in table
        assert "Back channel" in table
        assert re.search(r"Yours was spent \d+\.\d ms after it arrived", table)
        assert "a GitHub OAuth app's token lasts until it is revoked" in table
        assert steps[3]["parameters"]["code_challenge"] in table
        assert steps[5]["parameters"]["code_verifier"] in html

    def test_scopes_asked_and_granted_and_what_the_api_answered(self, html, steps):
        granted = html.split('data-testid="learn-granted"')[1].split("</dd>")[0]

        for scope in steps[6]["answer"]["scope"].split(","):
            assert f"<code>{scope}</code>" in granted
        assert "(step 6)" in granted
        # Field names in the order the record keeps them (PostgreSQL's jsonb orders its own).
        user_fields = granted.split("/user</code>: ", 1)[1].split(";")[0].split(", ")
        assert {"login", "id"} <= set(user_fields)
        assert "No step of your record\n      carries a password" in html
        assert "keeps nothing to revoke" in html

    def test_the_vocabulary_points_at_live_values_and_shows_no_secret(self, client, html, steps):
        vocabulary = html.split('data-testid="learn-vocabulary"')[1].split("</dl>")[0]

        assert "<code>signin-lab-github-emulator</code>" in vocabulary
        assert steps[3]["redirect_to"] in vocabulary
        assert steps[5]["request"].split(" ", 1)[1] in vocabulary
        assert steps[7]["request"] in vocabulary
        assert "issued none: a GitHub OAuth app's token does not expire" in vocabulary
        assert steps[1]["client_secret"] not in html
        assert client.session[PROVIDER_TOKEN_SESSION_KEY]["token"] not in html


@pytest.mark.usefixtures("emulator")
def test_after_a_google_sign_in_the_page_cites_expires_in_and_the_id_token(client):
    sign_in(client, "google", "alan")
    steps = {step["number"]: step["detail"] for step in OAuthFlowRecord.objects.get().steps}

    html = page_text(client)

    assert "3599 seconds: the <code>expires_in</code> of the provider's answer" in html
    assert f"<code>{steps[6]['id_token']['header']['kid']}</code>" in html
    assert "not needed this time" in html
    assert "/oauth2/v2/userinfo" in html
    assert "Google issues one only for offline access" in html


@pytest.mark.usefixtures("emulator")
def test_the_page_reads_the_newest_flow_in_a_fixed_number_of_queries(
    client, django_assert_num_queries
):
    sign_in(client, "github", "ada")
    sign_in(client, "github", "ada")
    page_text(client)

    # The session (the database's session store here), then the newest recorded flow alone,
    # however many are kept; the user comes from its shared state (accounts.backends).
    with django_assert_num_queries(2):
        page_text(client)


def test_signed_out_the_page_reads_only_what_its_sign_in_buttons_need(
    client, django_assert_num_queries
):
    page_text(client)

    # allauth's provider buttons read the applications registered in admin (SocialApp), as the
    # sign-in page does; the Site they also need is cached after the first request.
    with django_assert_num_queries(1):
        page_text(client)


@pytest.mark.usefixtures("emulator")
def test_the_profile_anchors_each_step_once(client):
    sign_in(client, "github", "ada")

    html = client.get("/accounts/profile/").content.decode()

    for number in range(1, 8):
        assert html.count(f'id="step-{number}"') == 1


def test_a_flow_without_its_later_steps_gives_none_rather_than_an_error(user):
    record = OAuthFlowRecord(
        user=user,
        provider_id="github",
        provider_name="GitHub",
        process="login",
        started_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        completed_at=dt.datetime(2026, 1, 1, 0, 0, 1, tzinfo=dt.UTC),
        steps=[
            {
                "number": 1,
                "title": "Register the application",
                "elapsed_ms": 0.0,
                "duration_ms": None,
                "detail": {"client_id": "x", "client_secret": None, "registered_in": "env"},
            }
        ],
    )

    facts = flow_facts(record=record)

    assert facts.code is None
    assert facts.access_token is None
    assert facts.code_held_ms is None
    assert [step.recorded for step in facts.steps] == [True] + [False] * 6
    assert facts.api_endpoint == GitHubOAuth2Adapter.profile_url
