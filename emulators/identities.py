"""The demo people one can sign in as at each emulator, failure identities included."""

from dataclasses import dataclass

from emulators.failures import Failure


@dataclass(frozen=True)
class GitHubEmail:
    """One entry of GitHub's /user/emails; `visibility` is "public", "private" or None."""

    email: str
    primary: bool
    verified: bool
    visibility: str | None


@dataclass(frozen=True)
class GitHubRepo:
    name: str
    description: str
    language: str
    stars: int = 0


@dataclass(frozen=True)
class GitHubIdentity:
    """A GitHub account; `public_email` is the profile's email, None when the user hides it."""

    key: str
    id: int
    login: str
    name: str
    public_email: str | None
    emails: tuple[GitHubEmail, ...]
    bio: str
    location: str
    repos: tuple[GitHubRepo, ...] = ()
    failure: Failure | None = None


@dataclass(frozen=True)
class GoogleIdentity:
    """A Google account; `has_picture` False leaves `picture` out of the ID token and userinfo."""

    key: str
    sub: str
    email: str
    email_verified: bool
    given_name: str
    family_name: str
    has_picture: bool = True
    failure: Failure | None = None

    @property
    def name(self) -> str:
        return f"{self.given_name} {self.family_name}"


def _github_failure_identity(failure: Failure, number: int) -> GitHubIdentity:
    email = f"{failure}@example.com"
    return GitHubIdentity(
        key=failure.value,
        id=9000 + number,
        login=f"sim-{failure}",
        name=f"Simulated {failure}",
        public_email=email,
        emails=(GitHubEmail(email, primary=True, verified=True, visibility="public"),),
        bio=failure.description,
        location="Localhost",
        failure=failure,
    )


def _google_failure_identity(failure: Failure, number: int) -> GoogleIdentity:
    return GoogleIdentity(
        key=failure.value,
        sub=f"1100000000000000090{number:02d}",
        email=f"{failure}@example.com",
        email_verified=True,
        given_name="Simulated",
        family_name=failure.value,
        # Without a picture in the ID token, allauth's Google provider (with FETCH_USERINFO)
        # calls the userinfo API, which is the call this identity makes fail.
        has_picture=failure is not Failure.API_500,
        failure=failure,
    )


GITHUB_IDENTITIES: tuple[GitHubIdentity, ...] = (
    GitHubIdentity(
        key="ada",
        id=1001,
        login="ada",
        name="Ada Lovelace",
        public_email="ada@example.com",
        emails=(GitHubEmail("ada@example.com", primary=True, verified=True, visibility="public"),),
        bio="Wrote the first published algorithm for a machine.",
        location="London",
        repos=(
            GitHubRepo("analytical-engine", "Notes on the Analytical Engine", "Python", 1843),
            GitHubRepo("bernoulli-numbers", "Note G, computed step by step", "Python", 42),
        ),
    ),
    GitHubIdentity(
        key="grace",
        id=1002,
        login="grace",
        name="Grace Hopper",
        # Shown on the profile, yet /user/emails reports it unverified: the case that makes
        # a site consult /user/emails before trusting an address.
        public_email="grace@example.com",
        emails=(
            GitHubEmail("grace@example.com", primary=True, verified=False, visibility="public"),
        ),
        bio="Found the first actual bug.",
        location="Arlington, Virginia",
        repos=(GitHubRepo("flow-matic", "English-like data processing language", "COBOL", 59),),
    ),
    GitHubIdentity(
        key="linus",
        id=1003,
        login="linus",
        name="Linus Torvalds",
        public_email=None,
        emails=(
            GitHubEmail("linus@example.com", primary=True, verified=True, visibility="private"),
        ),
        bio="Just a hobby, won't be big and professional.",
        location="Portland, Oregon",
        repos=(
            GitHubRepo("tiny-kernel", "A free operating system, just a hobby", "C", 91),
            GitHubRepo("content-tracker", "The stupid content tracker", "C", 5),
        ),
    ),
    *(_github_failure_identity(failure, number) for number, failure in enumerate(Failure, 1)),
)

GOOGLE_IDENTITIES: tuple[GoogleIdentity, ...] = (
    GoogleIdentity(
        key="alan",
        sub="110000000000000001001",
        email="alan@example.com",
        email_verified=True,
        given_name="Alan",
        family_name="Turing",
    ),
    GoogleIdentity(
        key="barbara",
        sub="110000000000000001002",
        email="barbara@example.com",
        email_verified=False,
        given_name="Barbara",
        family_name="Liskov",
    ),
    *(_google_failure_identity(failure, number) for number, failure in enumerate(Failure, 1)),
)


def github_identity(key: str) -> GitHubIdentity | None:
    return next((person for person in GITHUB_IDENTITIES if person.key == key), None)


def google_identity(key: str) -> GoogleIdentity | None:
    return next((person for person in GOOGLE_IDENTITIES if person.key == key), None)
