"""Webhook signatures (wallet_sdk.webhooks): what a merchant's receiver accepts and what it refuses."""

from __future__ import annotations

import hashlib
import hmac
import pickle

import pytest

from wallet_sdk.exceptions import WalletnetError
from wallet_sdk.webhooks import WebhookSignatureError, sign, verify

SECRET = "whsec_test-secret"
BODY = b'{"id":"evt_1","type":"payment.paid"}'
T = 1_900_000_000


def test_sign_is_hmac_sha256_of_timestamp_dot_body() -> None:
    expected = hmac.new(SECRET.encode(), f"{T}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, T, BODY) == f"t={T},v1={expected}"
    assert sign(SECRET.encode(), T, BODY) == sign(SECRET, T, BODY)  # str and bytes secrets are the same key


def test_verify_returns_the_timestamp_within_tolerance() -> None:
    header = sign(SECRET, T, BODY)
    assert verify(SECRET, header, BODY, now=T) == T
    assert verify(SECRET, header, BODY, now=T + 300) == T  # the edge of the default tolerance
    assert verify(SECRET, header, BODY, now=T - 300) == T  # a receiver's clock a little behind
    assert verify(SECRET, header, BODY, tolerance=10, now=T + 10) == T


@pytest.mark.parametrize("body", [BODY + b" ", BODY.replace(b"evt_1", b"evt_2"), b""])
def test_an_altered_body_is_refused(body: bytes) -> None:
    with pytest.raises(WebhookSignatureError, match="does not match"):
        verify(SECRET, sign(SECRET, T, BODY), body, now=T)


def test_a_wrong_secret_is_refused() -> None:
    with pytest.raises(WebhookSignatureError, match="does not match"):
        verify("whsec_other", sign(SECRET, T, BODY), BODY, now=T)


def test_an_altered_timestamp_is_refused() -> None:
    signature = sign(SECRET, T, BODY).split(",")[1]
    with pytest.raises(WebhookSignatureError, match="does not match"):
        verify(SECRET, f"t={T + 1},{signature}", BODY, now=T)


@pytest.mark.parametrize("now", [T + 301, T - 301, T + 86_400])
def test_a_timestamp_outside_the_tolerance_is_refused(now: int) -> None:
    with pytest.raises(WebhookSignatureError, match="tolerance"):
        verify(SECRET, sign(SECRET, T, BODY), BODY, now=now)


def test_verify_uses_the_clock_by_default() -> None:
    with pytest.raises(WebhookSignatureError, match="tolerance"):
        verify(SECRET, sign(SECRET, 1_000, BODY), BODY)  # signed in 1970: a replay


def test_any_of_several_v1_signatures_may_match() -> None:
    """While a secret is rotated the header carries one signature per secret."""
    old = sign("whsec_old", T, BODY).split(",")[1]
    new = sign("whsec_new", T, BODY).split(",")[1]
    header = f"t={T},{old},{new}"
    assert verify("whsec_old", header, BODY, now=T) == T
    assert verify("whsec_new", header, BODY, now=T) == T
    with pytest.raises(WebhookSignatureError):
        verify("whsec_third", header, BODY, now=T)


def test_unknown_schemes_and_spaces_are_tolerated() -> None:
    signature = sign(SECRET, T, BODY).split(",")[1]
    assert verify(SECRET, f" t={T} , v0=abc, {signature.upper().replace('V1=', 'v1=')}", BODY, now=T) == T


@pytest.mark.parametrize("header", [
    "",
    "garbage",
    f"t={T}",  # no signature
    "v1=" + "0" * 64,  # no timestamp
    f"t=abc,v1={'0' * 64}",
    f"t=-5,v1={'0' * 64}",
    f"t={T},t={T},v1={'0' * 64}",  # two timestamps
    f"t={T},v1=xyz",
    f"t={T},v1={'0' * 63}",
    f"t={T};v1={'0' * 64}",
])
def test_a_malformed_header_is_refused(header: str) -> None:
    with pytest.raises(WebhookSignatureError, match="malformed"):
        verify(SECRET, header, BODY, now=T)


def test_the_error_is_a_value_error_of_the_sdk_and_pickles() -> None:
    with pytest.raises(WebhookSignatureError) as caught:
        verify(SECRET, "garbage", BODY, now=T)
    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, WalletnetError)
    copy = pickle.loads(pickle.dumps(caught.value))
    assert type(copy) is WebhookSignatureError and str(copy) == str(caught.value)


def test_the_secret_never_appears_in_errors() -> None:
    for header in ("garbage", sign("whsec_other", T, BODY), sign(SECRET, 1_000, BODY)):
        with pytest.raises(WebhookSignatureError) as caught:
            verify(SECRET, header, BODY, now=T)
        assert SECRET not in str(caught.value)


def test_bad_arguments_to_sign() -> None:
    with pytest.raises(ValueError):
        sign("", T, BODY)
    with pytest.raises(ValueError):
        sign(SECRET, -1, BODY)
