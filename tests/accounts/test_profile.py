"""/accounts/profile/ and the flow exercise, for a person who signed in with a password."""

from html import escape
from http import HTTPStatus

import pytest
from allauth.socialaccount.models import SocialAccount

from accounts.flow_steps import STEP_ORDER_REASONS, STEP_TITLES
from accounts.forms import FlowOrderForm

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, user, password):
    client.post("/accounts/login/", {"login": user.email, "password": password})
    return client


def test_the_profile_needs_a_signed_in_person(client):
    response = client.get("/accounts/profile/")

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith("/accounts/login/")


def test_the_profile_says_who_you_are_and_how_you_signed_in(signed_in, user):
    html = signed_in.get("/accounts/profile/").content.decode()

    assert user.email in html
    assert "your email and password" in html
    assert "No provider is connected" in html
    assert "/accounts/github/login/?process=connect" in html


def test_the_last_way_to_sign_in_cannot_be_disconnected(signed_in, user):
    user.set_unusable_password()
    user.save()
    signed_in.force_login(user)
    account = SocialAccount.objects.create(user=user, provider="github", uid="1001")

    response = signed_in.post("/accounts/profile/disconnect/", {"account": account.pk}, follow=True)

    assert SocialAccount.objects.filter(pk=account.pk).exists()
    assert "no password" in response.content.decode().lower()


def test_a_provider_can_be_disconnected_when_a_password_remains(signed_in, user):
    account = SocialAccount.objects.create(user=user, provider="github", uid="1001")

    signed_in.post("/accounts/profile/disconnect/", {"account": account.pk})

    assert not SocialAccount.objects.filter(pk=account.pk).exists()


def test_the_provider_api_demo_needs_a_token_in_the_session(signed_in):
    response = signed_in.post("/accounts/profile/provider-api/")

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/accounts/profile/#provider-api"
    assert "holds no provider access token" in signed_in.get(response["Location"]).content.decode()


def answer_in_order(seed: int, order: list[str]) -> dict[str, str]:
    form = FlowOrderForm(seed=seed)
    return {name: str(order.index(field.label) + 1) for name, field in form.fields.items()}


def test_the_exercise_accepts_the_seven_steps_in_order(signed_in):
    signed_in.get("/accounts/profile/flow-exercise/")
    seed = signed_in.session["accounts.flow_exercise_seed"]
    canonical = [STEP_TITLES[n] for n in sorted(STEP_TITLES)]

    response = signed_in.post("/accounts/profile/flow-exercise/", answer_in_order(seed, canonical))

    assert "Right: that is the order your sign-in took" in response.content.decode()


def test_the_exercise_says_in_words_why_each_misplaced_step_cannot_stand_there(signed_in):
    signed_in.get("/accounts/profile/flow-exercise/")
    seed = signed_in.session["accounts.flow_exercise_seed"]
    canonical = [STEP_TITLES[n] for n in sorted(STEP_TITLES)]
    swapped = [canonical[0], canonical[1], canonical[4], canonical[3], canonical[2], *canonical[5:]]

    response = signed_in.post("/accounts/profile/flow-exercise/", answer_in_order(seed, swapped))

    html = response.content.decode()
    assert "Not quite" in html
    assert html.count('class="row-bad"') == 2
    assert html.count("Right: this step stands here.") == 5
    # Position 3 holds step 5 and position 5 holds step 3: each says what it needs and gives.
    assert f"Wrong: {escape(STEP_ORDER_REASONS[5])}" in html
    assert f"Wrong: {escape(STEP_ORDER_REASONS[3])}" in html


def test_a_position_given_twice_is_an_error_on_the_page_at_each_such_step(signed_in):
    signed_in.get("/accounts/profile/flow-exercise/")
    seed = signed_in.session["accounts.flow_exercise_seed"]
    canonical = [STEP_TITLES[n] for n in sorted(STEP_TITLES)]
    data = answer_in_order(seed, canonical)
    first, second = (name for name, value in data.items() if value in {"2", "4"})
    data[second] = data[first]

    response = signed_in.post("/accounts/profile/flow-exercise/", data)

    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert "Give each step a different position: " in html
    assert html.count(f"Another step has position {data[first]} too.") == 2
    assert html.count('aria-invalid="true"') == 2
    assert 'data-testid="exercise-result"' not in html


def test_a_repeated_position_keeps_the_answer_given(signed_in):
    signed_in.get("/accounts/profile/flow-exercise/")
    data = {f"step_{i}": "1" for i in range(7)}

    response = signed_in.post("/accounts/profile/flow-exercise/", data)

    assert response.status_code == HTTPStatus.OK
    assert "1 is given to 7 steps" in response.content.decode()
    assert response.context["form"]["step_3"].value() == "1"
