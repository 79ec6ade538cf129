"""The client is the peer (REMOTE_ADDR), unless the peer is one of TRUSTED_PROXIES: then the
right-most X-Forwarded-For address that is not one.

What a client writes further left is ignored, and so is all it writes when it reaches the app
server directly, so a forged header can neither hide an address nor reset a rate limit (OWASP
ASVS V6: rate limits on every credential endpoint). tests/config/test_gunicorn.py tries the same
against a real server.
"""

from http import HTTPStatus

import pytest
from allauth.account.adapter import get_adapter
from django.test import RequestFactory

from accounts.models import AuditEvent
from config.client_address import client_address, client_network

pytestmark = pytest.mark.django_db

LOAD_BALANCER = "10.0.0.2"
CLIENT = "203.0.113.9"
DIRECT = "198.51.100.50"


def forged(n: int, *, peer: str = LOAD_BALANCER) -> dict[str, str]:
    """The client writes a fresh address each time; a load balancer would append the real one."""
    return {"REMOTE_ADDR": peer, "HTTP_X_FORWARDED_FOR": f"198.51.100.{n}, {CLIENT}"}


def address_of(settings, *, trusted: list[str], peer: str, forwarded: str | None = None) -> str:
    settings.TRUSTED_PROXIES = trusted
    meta = {"REMOTE_ADDR": peer}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return client_address(RequestFactory().get("/", **meta))


@pytest.mark.parametrize(
    ("trusted", "peer", "forwarded", "client"),
    [
        # No proxy in front: the peer, whatever it writes.
        ([], CLIENT, "198.51.100.1", CLIENT),
        # A peer that is not a trusted proxy is the client, whatever it writes.
        ([LOAD_BALANCER], DIRECT, "198.51.100.1, 10.0.0.2", DIRECT),
        # Behind the balancer: the address it appended, never what the client wrote before it.
        ([LOAD_BALANCER], LOAD_BALANCER, f"198.51.100.1, {CLIENT}", CLIENT),
        # Behind two trusted hops (a CIDR range): the right-most address outside the range.
        (["10.0.0.0/24"], LOAD_BALANCER, f"198.51.100.1, {CLIENT}, 10.0.0.3", CLIENT),
        # The balancer's own request (a health check): the balancer.
        ([LOAD_BALANCER], LOAD_BALANCER, None, LOAD_BALANCER),
        # Every hop trusted: the furthest one known.
        (["10.0.0.0/24"], LOAD_BALANCER, "10.0.0.7, 10.0.0.3", "10.0.0.7"),
        # A malformed entry where an address should be: the last proxy answers for the request.
        ([LOAD_BALANCER], LOAD_BALANCER, f"{CLIENT}, not-an-address", LOAD_BALANCER),
        ([LOAD_BALANCER], LOAD_BALANCER, "", LOAD_BALANCER),
        # IPv6, and an IPv4 peer written as IPv6.
        (["2001:db8:1::/48"], "2001:db8:1::2", "2001:db8:ff::9", "2001:db8:ff::9"),
        ([LOAD_BALANCER], f"::ffff:{LOAD_BALANCER}", CLIENT, CLIENT),
    ],
)
def test_the_client_address(settings, trusted, peer, forwarded, client):
    assert address_of(settings, trusted=trusted, peer=peer, forwarded=forwarded) == client


def test_an_ipv6_client_counts_by_its_64_and_an_ipv4_one_by_itself(settings):
    settings.TRUSTED_PROXIES = []
    factory = RequestFactory()

    assert client_network(factory.get("/", REMOTE_ADDR="2001:db8:1:2:3::9")) == "2001:db8:1:2::/64"
    assert client_network(factory.get("/", REMOTE_ADDR=CLIENT)) == CLIENT


def test_allauth_reads_the_same_address(settings):
    """Its rate limits, its sessions page and its notifications: AccountAdapter.get_client_ip."""
    settings.TRUSTED_PROXIES = [LOAD_BALANCER]
    factory = RequestFactory()

    behind = factory.get("/", **forged(1))
    direct = factory.get("/", **forged(1, peer=DIRECT))

    assert get_adapter().get_client_ip(behind) == CLIENT
    assert get_adapter().get_client_ip(direct) == DIRECT


@pytest.fixture
def one_trusted_proxy(settings):
    settings.TRUSTED_PROXIES = [LOAD_BALANCER]
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"token_address": "3/min", "token_account": "100/min"},
    }


def token_attempts(client, addresses: list[dict[str, str]]) -> list[int]:
    return [
        client.post(
            "/api/auth/token/",
            {"username": f"nobody{n}@example.com", "password": "wrong-password"},
            content_type="application/json",
            **address,
        ).status_code
        for n, address in enumerate(addresses)
    ]


@pytest.mark.usefixtures("one_trusted_proxy")
def test_a_forged_forwarded_for_does_not_reset_the_token_endpoints_limit(client):
    assert token_attempts(client, [forged(n) for n in range(4)]) == [401, 401, 401, 429]


@pytest.mark.usefixtures("one_trusted_proxy")
def test_a_client_reaching_the_server_directly_cannot_claim_another_address(client):
    """The balancer is trusted; this peer is not, so its X-Forwarded-For says nothing, however
    much it looks like the balancer's."""
    attempts = [forged(n, peer=DIRECT) for n in range(4)]

    assert token_attempts(client, attempts) == [401, 401, 401, 429]


@pytest.mark.usefixtures("one_trusted_proxy")
def test_different_clients_behind_the_same_balancer_have_their_own_limits(client):
    token_attempts(client, [forged(n) for n in range(3)])

    other = {"REMOTE_ADDR": LOAD_BALANCER, "HTTP_X_FORWARDED_FOR": "203.0.113.77"}

    assert token_attempts(client, [other]) == [HTTPStatus.UNAUTHORIZED]


@pytest.mark.usefixtures("one_trusted_proxy")
def test_a_forged_forwarded_for_does_not_reset_the_sign_in_limit(client, settings):
    settings.ACCOUNT_RATE_LIMITS = {"login": "3/m/ip"}

    pages = [
        client.post(
            "/accounts/login/",
            {"login": f"nobody{n}@example.com", "password": "wrong-password"},
            **forged(n),
        )
        for n in range(4)
    ]

    assert [page.status_code for page in pages] == [200, 200, 200, 429]


@pytest.mark.usefixtures("one_trusted_proxy")
def test_the_audit_log_records_the_client_behind_the_balancer(client, user, password):
    client.post(
        "/accounts/login/",
        {"login": user.email, "password": "wrong-password"},
        **forged(2, peer=DIRECT),
    )
    client.post("/accounts/login/", {"login": user.email, "password": password}, **forged(1))

    events = dict(AuditEvent.objects.values_list("action", "ip"))
    assert events == {AuditEvent.Action.SIGN_IN: CLIENT, AuditEvent.Action.SIGN_IN_FAILED: DIRECT}
