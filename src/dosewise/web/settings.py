"""The web app's settings: plain values, read from the environment only in the composition root."""

from __future__ import annotations

import ipaddress
import math
import os
import secrets
import string
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal

from dosewise.errors import InputError
from dosewise.services.auth import SessionPolicy, SignInLimits
from dosewise.services.delivery import ReachSettings

Environment = Literal["development", "test", "production"]
PLACEHOLDER_SECRETS = frozenset({"", "change-me", "changeme", "secret", "dev", "development"})
MIN_SECRET_CHARS = 32
MIN_SECRET_BITS = 128  # in production: what a guesser would have to try (estimate_secret_bits)
KEY_COMMAND = 'python -c "import secrets; print(secrets.token_urlsafe(48))"'
MAX_BODY_BYTES = 1024 * 1024  # forms and JSON; no route takes uploads (setting)


@dataclass(frozen=True, slots=True, kw_only=True)
class Argon2Cost:
    """argon2id parameters; the defaults are argon2-cffi's (RFC 9106 low-memory profile)."""

    time_cost: int = 3
    memory_kib: int = 65536
    parallelism: int = 4


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    database_url: str
    secret_key: str
    environment: Environment = "production"
    secure_cookies: bool = True  # cookies only over HTTPS; off for http://127.0.0.1 in development
    argon2: Argon2Cost = field(default_factory=Argon2Cost)
    sign_in_limits: SignInLimits = field(default_factory=SignInLimits)
    session_policy: SessionPolicy = field(default_factory=SessionPolicy)
    invitation_lifetime: timedelta = timedelta(days=7)
    reach: ReachSettings = field(default_factory=ReachSettings)  # push, email, links
    # "inline": the app runs the notification worker in its own process (make run); "off": a
    # separate `dosewise worker` does (DOSEWISE_WORKER)
    worker: Literal["inline", "off"] = "off"
    # issue 15, limits: the largest request body read (413 above it), and the addresses of the
    # reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (none by default)
    max_body_bytes: int = MAX_BODY_BYTES
    trusted_proxies: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.environment not in ("development", "test", "production"):
            raise InputError("DOSEWISE_ENV is development, test or production")
        weak = (
            self.secret_key.strip().lower() in PLACEHOLDER_SECRETS or len(self.secret_key) < MIN_SECRET_CHARS
        )
        if weak and self.environment != "development":
            raise InputError(
                f"set DOSEWISE_SECRET_KEY to a random value of at least {MIN_SECRET_CHARS} characters "
                '(python -c "import secrets; print(secrets.token_urlsafe(48))"); '
                "a placeholder is accepted only with DOSEWISE_ENV=development"
            )
        self._check_limits()

    def _check_limits(self) -> None:
        """Issue 15: a guessable secret in production, a body limit, the proxies' addresses."""
        bits = estimate_secret_bits(self.secret_key) if self.environment == "production" else 0.0
        if self.environment == "production" and bits < MIN_SECRET_BITS:
            raise InputError(
                f"DOSEWISE_SECRET_KEY looks guessable (about {max(bits, 0.0):.0f} bits estimated; at least "
                f"{MIN_SECRET_BITS} bits are needed): make a random one with {KEY_COMMAND}"
            )
        if self.max_body_bytes < 1:
            raise InputError("DOSEWISE_MAX_BODY_BYTES is a whole number of bytes, 1 or more")
        for proxy in self.trusted_proxies:
            check_proxy_address(proxy)

    @classmethod
    def from_environment(cls, environ: dict[str, str] | None = None) -> Settings:
        """DOSEWISE_DATABASE_URL, DOSEWISE_SECRET_KEY, DOSEWISE_ENV, DOSEWISE_SECURE_COOKIES,
        DOSEWISE_MAX_BODY_BYTES, DOSEWISE_TRUSTED_PROXIES (comma-separated addresses or networks)."""
        env = dict(os.environ if environ is None else environ)
        environment = env.get("DOSEWISE_ENV", "production").strip().lower()
        secret = env.get("DOSEWISE_SECRET_KEY", "")
        if environment == "development" and not secret:
            secret = development_secret()
        url = env.get("DOSEWISE_DATABASE_URL") or default_database_url()
        secure = env.get("DOSEWISE_SECURE_COOKIES", "0" if environment == "development" else "1")
        worker = env.get("DOSEWISE_WORKER", "inline").strip().lower()
        if worker not in ("inline", "off"):
            raise InputError("DOSEWISE_WORKER is inline (the app sends reminders itself) or off")
        return cls(
            database_url=url,
            secret_key=secret,
            environment=environment,  # type: ignore[arg-type]  # checked in __post_init__
            secure_cookies=secure.strip().lower() in ("1", "true", "yes"),
            reach=ReachSettings.from_environment(
                env, data_folder=_data_folder(), development=environment == "development"
            ),
            worker=worker,  # type: ignore[arg-type]  # checked above
            session_policy=session_policy_from(env),
            max_body_bytes=_max_body_bytes(env.get("DOSEWISE_MAX_BODY_BYTES", "")),
            trusted_proxies=tuple(
                part.strip() for part in env.get("DOSEWISE_TRUSTED_PROXIES", "").split(",") if part.strip()
            ),
        )


def _max_body_bytes(text: str) -> int:
    if not text.strip():
        return MAX_BODY_BYTES
    if not (text.strip().isascii() and text.strip().isdigit()) or int(text) < 1:
        raise InputError(f"DOSEWISE_MAX_BODY_BYTES is a whole number of bytes, 1 or more, not {text!r}")
    return int(text)


def check_proxy_address(proxy: str) -> None:
    """An address or network (``10.0.0.0/8``) a reverse proxy connects from. No wildcard: with
    ``*`` uvicorn believes the leftmost ``X-Forwarded-For`` entry, which the client writes
    itself unless the proxy replaces the header, and the per-address sign-in limits are gone."""
    if proxy == "*":
        raise InputError(
            "DOSEWISE_TRUSTED_PROXIES cannot be *: any client could then choose its own address "
            "for the sign-in limits; list the proxy's addresses or networks (e.g. 127.0.0.1,10.0.0.0/8)"
        )
    try:
        ipaddress.ip_network(proxy, strict=False)
    except ValueError:
        raise InputError(
            f"DOSEWISE_TRUSTED_PROXIES lists IP addresses or networks, comma-separated "
            f"(e.g. 127.0.0.1,10.0.0.0/8), not {proxy!r}"
        ) from None
    try:  # uvicorn reads a network strictly: one with host bits set would be ignored
        ipaddress.ip_network(proxy)
    except ValueError:
        network = ipaddress.ip_network(proxy, strict=False)
        raise InputError(
            f"DOSEWISE_TRUSTED_PROXIES: {proxy!r} has host bits set; write the network, {network}"
        ) from None


HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
BASE64_CHARACTERS = frozenset(string.ascii_letters + string.digits + "-_+/=")
PATTERNED_SHARE = 0.4  # a key this much made of words and patterns is judged as a phrase


def estimate_secret_bits(secret: str) -> float:
    """How many bits a guesser would have to try, roughly. It catches the usual mistakes; it
    cannot prove a key random (make one with :data:`KEY_COMMAND`):

    - a piece repeated counts once (``"ab" * 40`` is "ab");
    - each character counts what its alphabet gives: 4 bits for hex, 6 for base64 (what
      ``secrets`` and ``openssl rand`` print), log2(95) for any other printable;
    - a key with spaces, or made largely (:data:`PATTERNED_SHARE`) of words, names, keyboard
      runs, sequences or dates, is a phrase: it counts what zxcvbn says guessing it takes. Hex
      is exempt: zxcvbn reads digit runs in random hex as dates and sequences, and nobody
      writes 32 hex digits from memory."""
    size = len(secret)
    period = next(
        (p for p in range(1, size // 2 + 1) if size % p == 0 and secret[:p] * (size // p) == secret), size
    )
    piece = secret[:period]
    characters = set(piece)
    if len(characters) <= 1:
        return 0.0
    if characters <= HEX_DIGITS:
        return 4.0 * len(piece)
    per_character = 6.0 if characters <= BASE64_CHARACTERS else math.log2(95)
    from dosewise.services.auth import guessing_estimate

    guessing_bits, explained = guessing_estimate(piece)
    if " " in piece or explained >= PATTERNED_SHARE * len(piece):
        return guessing_bits
    return per_character * len(piece)


def _data_folder() -> str:
    from platformdirs import user_data_dir

    folder = user_data_dir("dosewise", appauthor=False)
    os.makedirs(folder, exist_ok=True)
    return folder


def development_secret() -> str:
    """A random key kept in the data folder (mode 0600), so a restart keeps people signed in."""
    path = os.path.join(_data_folder(), "development-secret-key")
    try:
        with open(path, encoding="utf-8") as file:
            kept = file.read().strip()
        if len(kept) >= MIN_SECRET_CHARS:
            return kept
    except FileNotFoundError:
        pass
    key = secrets.token_urlsafe(48)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(key)
    return key


def default_database_url() -> str:
    """SQLite in the user's data folder (beside the CLI's personal diary, not the same file)."""
    return f"sqlite:///{os.path.join(_data_folder(), 'web.sqlite3')}"


def session_policy_from(env: dict[str, str]) -> SessionPolicy:
    """DOSEWISE_SESSION_MAX_DAYS (default 30): a session ends this long after signing in, however
    active; DOSEWISE_SESSION_IDLE_DAYS (default 7): or this long after its last request. Days,
    fractions allowed (0.5 is 12 hours). See docs/adr/0017."""
    default = SessionPolicy()
    lifetimes = {}
    for name, fallback in (
        ("DOSEWISE_SESSION_MAX_DAYS", default.absolute_lifetime),
        ("DOSEWISE_SESSION_IDLE_DAYS", default.idle_limit),
    ):
        raw = env.get(name, "").strip()
        try:
            days = float(raw) if raw else fallback / timedelta(days=1)
        except ValueError:
            days = -1.0
        if not (0 < days <= 3660):  # also refuses nan and inf
            raise InputError(f"{name} is a number of days above 0, such as 30 or 0.5")
        lifetimes[name] = timedelta(days=days)
    absolute, idle = lifetimes["DOSEWISE_SESSION_MAX_DAYS"], lifetimes["DOSEWISE_SESSION_IDLE_DAYS"]
    if idle > absolute:
        raise InputError("DOSEWISE_SESSION_IDLE_DAYS is at most DOSEWISE_SESSION_MAX_DAYS")
    return SessionPolicy(absolute_lifetime=absolute, idle_limit=idle)
