"""Passwords (issue 15, point 4): a strength estimate (zxcvbn, offline, with its bundled lists of
common passwords, names and words) and never the email; the message says why and what to do."""

from __future__ import annotations

import pytest

from dosewise.errors import InputError
from dosewise.services.auth import check_password

EMAIL = "sam.rowe@example.org"


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("aaaaaaaaaa", "repeats"),
        (" " * 10, "repeats"),
        ("password12", "common password"),
        ("1234567890", "common password"),
        ("Password1!", "commonly used password"),
        ("qwertyuiop", "common password"),
        ("iloveyou2026", "common"),
        ("abcdefghijkl", "easy to guess"),
    ],
)
def test_weak_passwords_are_refused_with_the_reason(password: str, why: str) -> None:
    with pytest.raises(InputError) as refused:
        check_password(password, email=EMAIL)
    message = str(refused.value).lower()
    assert why in message, message
    assert "three or four unrelated words" in message  # what to do


@pytest.mark.parametrize(
    "password",
    [EMAIL, EMAIL.upper(), f"my {EMAIL} pass", "sam.rowe 1234", "Sam.Rowe 2026 winter", "sam.rowe@example"],
)
def test_the_email_or_its_first_part_is_refused(password: str) -> None:
    with pytest.raises(InputError, match="your email address"):
        check_password(password, email=EMAIL)


def test_without_an_email_the_strength_check_still_applies() -> None:
    with pytest.raises(InputError, match="common password"):
        check_password("password12")
    check_password("correct horse battery")  # the signature another helper relies on


@pytest.mark.parametrize(
    "password",
    ["correct horse battery", "a brand new secret", "tulip kettle marathon", "Quiet-Harbour-71-Lantern"],
)
def test_strong_passwords_pass(password: str) -> None:
    check_password(password, email=EMAIL)


def test_length_limits_still_hold() -> None:
    with pytest.raises(InputError, match="at least 10 characters"):
        check_password("x7#Qp!", email=EMAIL)
    with pytest.raises(InputError, match="at most 256 characters"):
        check_password("horse battery " * 30, email=EMAIL)


def test_a_long_password_is_judged_without_an_error() -> None:
    """zxcvbn itself refuses more than 72 characters; a long passphrase is fine."""
    check_password("tulip kettle marathon " * 11, email=EMAIL)  # 242 characters
    with pytest.raises(InputError, match="easy to guess"):
        check_password("a" * 200, email=EMAIL)
