"""The local GitHub fake answers each credential as GitHub does: the real client, through the
App's installation token or the fine-grained token, against the fake on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from hookwise.local.provider_fakes import (
    BOT_LOGIN,
    DEV_GITHUB_APP_ID,
    DEV_GITHUB_PAT,
    PAT_LOGIN,
    GitHubFake,
)
from hookwise.providers.errors import ProviderError
from hookwise.providers.github import (
    AppCredentials,
    GitHubClient,
    GitHubCredentials,
    InstallationTokens,
)

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PRIVATE_PEM = KEY.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
).decode()
PUBLIC_PEM = (
    KEY.public_key()
    .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    .decode()
)


@pytest.fixture
def fake() -> Iterator[GitHubFake]:
    running = GitHubFake(app_public_key=PUBLIC_PEM, pat=DEV_GITHUB_PAT).start()
    yield running
    running.stop()


def client(fake: GitHubFake, app_id: str = DEV_GITHUB_APP_ID) -> GitHubClient:
    credentials = GitHubCredentials(
        app=lambda: AppCredentials(app_id, PRIVATE_PEM), token=lambda: DEV_GITHUB_PAT
    )
    return GitHubClient(fake.url, credentials)


def test_a_comment_through_the_app_is_its_bots_and_names_the_app(fake: GitHubFake) -> None:
    made = client(fake).create_comment("o/r", 1, "hello", 7)
    assert made["user"]["login"] == BOT_LOGIN
    assert made["user"]["type"] == "Bot"
    assert str(made["performed_via_github_app"]["id"]) == DEV_GITHUB_APP_ID
    assert client(fake).author(7).wrote(made)


def test_a_comment_with_the_token_is_its_users_and_names_no_app(fake: GitHubFake) -> None:
    github = client(fake)
    made = github.create_comment("o/r", 1, "hello", None)
    assert made["user"]["login"] == PAT_LOGIN
    assert made["performed_via_github_app"] is None
    assert github.author(None).wrote(made)
    assert not github.author(7).wrote(made)


def test_get_user_names_the_tokens_user_and_refuses_an_installation_token(
    fake: GitHubFake,
) -> None:
    tokens = InstallationTokens(
        DEV_GITHUB_APP_ID, PRIVATE_PEM, base_url=fake.url, http=httpx.Client()
    )
    for token, status in ((tokens.token(7), 403), (DEV_GITHUB_PAT, 200)):
        answer = httpx.get(f"{fake.url}/user", headers={"authorization": f"token {token}"})
        assert answer.status_code == status
    assert answer.json()["login"] == PAT_LOGIN


def test_a_jwt_from_another_app_gets_no_token(fake: GitHubFake) -> None:
    with pytest.raises(ProviderError) as refused:
        client(fake, app_id="999").issue_comments("o/r", 1, 7)
    assert "401" in str(refused.value)


def test_the_compare_of_two_seeded_heads_says_how_they_stand_and_what_changed(
    fake: GitHubFake,
) -> None:
    def changed(name: str) -> dict[str, object]:
        return {"filename": name, "status": "modified", "additions": 1, "deletions": 0}

    httpx.post(
        f"{fake.url}/_control/pulls",
        json={
            "repo": "o/r",
            "number": 1,
            "files": [changed("a.py")],
            "head": "h0",
            "pushes": [
                {"sha": "h1", "files": [changed("b.py")]},
                {"sha": "h2", "files": [changed("c.py"), changed("b.py")]},
                {"sha": "h3", "files": [changed("d.py")], "force_pushed": True},
            ],
        },
    ).raise_for_status()
    github = client(fake)
    ahead = github.compare_files("o/r", "h0", "h2", None)
    assert ahead.status == "ahead"
    assert sorted(f.filename for f in ahead.files) == ["b.py", "c.py"]
    assert github.compare_files("o/r", "h1", "h2", None).status == "ahead"
    assert github.compare_files("o/r", "h2", "h1", None).status == "behind"
    assert github.compare_files("o/r", "h2", "h2", None).status == "identical"
    assert github.compare_files("o/r", "h1", "h3", None).status == "diverged"
    with pytest.raises(ProviderError) as unknown:
        github.compare_files("o/r", "gone", "h2", None)
    assert "404" in str(unknown.value)
    assert not unknown.value.transient
    paths = [call["path"] for call in httpx.get(f"{fake.url}/_control/state").json()["calls"]]
    assert "/repos/o/r/compare/h0...h2" in paths
