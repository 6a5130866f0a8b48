"""Every official vector from the providers passes; the same input with one byte changed fails."""

from __future__ import annotations

import pytest

from hookwise.verifiers import SignatureError
from tests.unit.verifiers.support import flip, flip_text, request, verifier

GITHUB = [
    (
        "It's a Secret to Everybody",
        b"Hello, World!",
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
    ),
    (
        "mysecret",
        b'{\n  "foo": "bar"\n}\n',
        "sha256=e3eccac34c43c7dc1cbb905488b1b81347fcc700a7b025697a9d07862256023f",
    ),
]
SLACK_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
SLACK_BODY = (
    b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id="
    b"G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-"
    b"collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F3977008"
    b"85554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c4"
    b"47fce8b6703c"
)
SLACK_SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
STANDARD_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
STANDARD_HEADERS = {"webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek", "webhook-timestamp": "1614265330"}
STANDARD_BODY = b'{"test": 2432232314}'
STANDARD_GOOD = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
STANDARD_BAD = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA="
TWILIO_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
TWILIO_BODY = (
    b"CallSid=CA1234567890ABCDE&Caller=%2B14158675309&Digits=1234&From=%2B14158675309"
    b"&To=%2B18005551212"
)
TWILIO_SIGNATURE = "RSOYDt4T1cUTdK1PDd93/VVr8B8="
PADDLE_SECRET = "pdl_ntf_01hbpjmytsa32fhr36nqgc3kgb_WvRO0eL4Bj9rgYYIBZY6wZhG4EHy9jzh"
PADDLE_HEADER = (
    "ts=1696195954;h1=dummy;h1=d96299976a6eb066f484d7fde011ac56fc32b38fc9940bc419d6e537fdc6ef02"
)


@pytest.mark.parametrize(("secret", "body", "header"), GITHUB)
def test_github_vectors(secret: str, body: bytes, header: str) -> None:
    github = verifier("github")
    github.verify(request(body, {"X-Hub-Signature-256": header}), [secret])
    for tampered in (
        request(flip(body), {"X-Hub-Signature-256": header}),
        request(body, {"X-Hub-Signature-256": flip_text(header)}),
    ):
        with pytest.raises(SignatureError):
            github.verify(tampered, [secret])
    with pytest.raises(SignatureError):
        github.verify(request(body, {"X-Hub-Signature-256": header}), [flip_text(secret, 0)])


def test_slack_vector() -> None:
    slack = verifier("slack", now=1531420618)
    headers = {"X-Slack-Signature": SLACK_SIGNATURE, "X-Slack-Request-Timestamp": "1531420618"}
    slack.verify(request(SLACK_BODY, headers), [SLACK_SECRET])
    with pytest.raises(SignatureError):
        slack.verify(request(flip(SLACK_BODY, 10), headers), [SLACK_SECRET])
    with pytest.raises(SignatureError):
        slack.verify(
            request(SLACK_BODY, {**headers, "X-Slack-Request-Timestamp": "1531420619"}),
            [SLACK_SECRET],
        )


def test_standard_webhooks_vectors_and_their_negative() -> None:
    standard = verifier("standard", now=1614265330)
    standard.verify(
        request(STANDARD_BODY, {**STANDARD_HEADERS, "webhook-signature": STANDARD_GOOD}),
        [STANDARD_SECRET],
    )
    with pytest.raises(SignatureError):
        standard.verify(
            request(STANDARD_BODY, {**STANDARD_HEADERS, "webhook-signature": STANDARD_BAD}),
            [STANDARD_SECRET],
        )
    with pytest.raises(SignatureError):
        standard.verify(
            request(flip(STANDARD_BODY), {**STANDARD_HEADERS, "webhook-signature": STANDARD_GOOD}),
            [STANDARD_SECRET],
        )


def test_svix_is_the_same_scheme_under_svix_headers() -> None:
    svix = verifier("svix", now=1614265330)
    headers = {k.replace("webhook", "svix"): v for k, v in STANDARD_HEADERS.items()}
    svix.verify(
        request(STANDARD_BODY, {**headers, "svix-signature": STANDARD_GOOD}), [STANDARD_SECRET]
    )
    with pytest.raises(SignatureError):
        svix.verify(
            request(STANDARD_BODY, {**STANDARD_HEADERS, "webhook-signature": STANDARD_GOOD}),
            [STANDARD_SECRET],
        )


def test_twilio_vector() -> None:
    twilio = verifier("twilio")
    twilio.verify(
        request(TWILIO_BODY, {"X-Twilio-Signature": TWILIO_SIGNATURE}, url=TWILIO_URL), ["12345"]
    )
    with pytest.raises(SignatureError):
        twilio.verify(
            request(
                TWILIO_BODY.replace(b"1234&", b"1235&"),
                {"X-Twilio-Signature": TWILIO_SIGNATURE},
                url=TWILIO_URL,
            ),
            ["12345"],
        )
    with pytest.raises(SignatureError):
        twilio.verify(
            request(
                TWILIO_BODY,
                {"X-Twilio-Signature": TWILIO_SIGNATURE},
                url=TWILIO_URL.replace("bar=2", "bar=3"),
            ),
            ["12345"],
        )


def test_paddle_vector_skips_the_malformed_entry() -> None:
    paddle = verifier("paddle", now=1696195954)
    paddle.verify(request(b"hello-world", {"Paddle-Signature": PADDLE_HEADER}), [PADDLE_SECRET])
    with pytest.raises(SignatureError):
        paddle.verify(request(b"hello-worle", {"Paddle-Signature": PADDLE_HEADER}), [PADDLE_SECRET])
    with pytest.raises(SignatureError, match="timestamp"):
        verifier("paddle", now=1696195954 + 6).verify(
            request(b"hello-world", {"Paddle-Signature": PADDLE_HEADER}), [PADDLE_SECRET]
        )
