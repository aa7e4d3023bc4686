"""Settings of one bank node.

Sources, strongest first:

1. arguments to :class:`NodeSettings` / :func:`load_settings`;
2. environment variables ``WALLETNET_<FIELD>`` (``WALLETNET_BANK_ID``, ``WALLETNET_DB_URL``, ...);
3. a TOML or JSON config file named by ``WALLETNET_CONFIG`` (or the ``config_file`` argument), with the
   fields as top-level keys (``bank_id = "BANKA"``); unknown keys are refused;
4. defaults, which suit a local network (``environment = "local"``).

The operator key's password is never a setting: the settings name where to read it (an environment
variable or a file) and :meth:`NodeSettings.operator_password` returns it as a ``SecretStr``. Neither it nor
a database password ever shows in ``repr``, ``model_dump``, logs or validation errors (``db_url`` is a
``SecretStr`` too; ``repr`` shows it with the password masked).

Outside ``local`` the node refuses to start on settings that are only fit for a laptop: defaults left in
place, a missing operator keystore or password source, one of the public development keys, or a password
file that others can read.
"""

from __future__ import annotations

import json
import os
import re
import stat
import tomllib
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any, Final, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict
from sqlalchemy import make_url
from sqlalchemy.exc import ArgumentError

from node.errors import NodeError
from wallet_sdk.exceptions import DeclaredError, error_message

__all__ = [
    "CONFIG_ENV_VAR",
    "ENV_PREFIX",
    "ConfigFileError",
    "Environment",
    "NodeSettings",
    "OperatorPasswordError",
    "load_settings",
]

ENV_PREFIX: Final = "WALLETNET_"
CONFIG_ENV_VAR: Final = "WALLETNET_CONFIG"
DEV_ACCOUNTS_CHECKED: Final = 20  # anvil's default accounts and then some
_REQUIRED_OUTSIDE_LOCAL: Final = ("bank_id", "rpc_url", "deployment_file", "db_url", "operator_keystore")


class Environment(StrEnum):
    LOCAL = "local"
    PRODUCTION = "production"


@error_message("config file {path}: {reason}")
class ConfigFileError(DeclaredError, NodeError, ValueError):
    """The config file is missing, unreadable, or not a TOML/JSON object."""

    path: Path
    reason: str


class OperatorPasswordError(NodeError, RuntimeError):
    """The operator keystore's password cannot be read from its configured source (never shows the value)."""


class _ConfigFileSource(PydanticBaseSettingsSource):
    """Fields from a TOML (``.toml``) or JSON (``.json``) file; an explicitly named file must exist."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path | None) -> None:
        super().__init__(settings_cls)
        self.path = path
        self.data = self._read(path) if path is not None else {}

    @staticmethod
    def _read(path: Path) -> dict[str, Any]:
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise ConfigFileError(path, exc.strerror or str(exc)) from None
        try:
            if path.suffix.lower() == ".toml":
                data: object = tomllib.loads(raw.decode())
            elif path.suffix.lower() == ".json":
                data = json.loads(raw)
            else:
                raise ConfigFileError(path, "use a .toml or .json file")
        except (tomllib.TOMLDecodeError, json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ConfigFileError(path, f"cannot parse: {exc}") from None
        if not isinstance(data, dict):
            raise ConfigFileError(path, "the top level must be a table/object of settings")
        return data

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return self.data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self.data)


_BANK_ID = re.compile(r"[A-Z][A-Z0-9_]{1,15}", re.ASCII)


class NodeSettings(BaseSettings):
    """Everything a bank node needs to start. See the module docstring for where values come from."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", frozen=True, validate_default=True,
                                      populate_by_name=True, hide_input_in_errors=True)

    environment: Environment = Environment.LOCAL
    bank_id: str = Field("BANKA", description="the bank's short code, as admitted in Consortium (e.g. BANKA)")
    rpc_url: str = Field("http://127.0.0.1:8545", description="JSON-RPC URL of the bank's chain node")
    data_dir: Path = Field(Path(".walletnet"), description="where local state lives (SQLite file, deployment)")
    deployment_file: Path | None = Field(None, description="deployment JSON; default <data_dir>/deployment.json")
    operator_keystore: Path | None = Field(None, description="encrypted keystore of the bank's operator key")
    operator_password_env: str | None = Field(None, description="name of the env var holding the password")
    operator_password_file: Path | None = Field(None, description="file holding the password (mode 0600)")
    db_url: SecretStr | None = Field(None, repr=False,
                                     description="SQLAlchemy URL; default sqlite:///<data_dir>/<bank>/node.sqlite3")
    confirmations: int = Field(1, ge=0, le=1000, description="blocks to wait before an event counts")
    currency: str = Field("DCASH", pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,15}$")
    ledger_adapter: str = Field("builtin", description="'builtin' or 'package.module:factory'")
    second_factor_threshold: int = Field(
        100_000, ge=0, description="customer operations above this many minor units need a TOTP code (0: all)")
    second_factor_max_failures: int = Field(
        5, ge=1, le=100, description="wrong TOTP codes in a row after which a wallet's second factor is locked out")
    second_factor_lockout: int = Field(
        60, ge=1, le=86_400, description="seconds of the first lock-out; each further one doubles it")
    second_factor_lockout_max: int = Field(
        86_400, ge=1, le=30 * 86_400, description="the longest lock-out, in seconds")
    second_factor_reset_cooling_off: int = Field(
        86_400, ge=0, le=30 * 86_400,
        description="seconds after a teller's reset of a wallet's TOTP during which operations above the "
                    "threshold are refused")
    custody_key_env: str | None = Field(
        None, description="name of the env var holding the key that encrypts custodial wallet keys at rest")
    custody_key_file: Path | None = Field(
        None, description="file holding that key; default <data_dir>/<bank>/custody.key, created on first use "
                          "in local environments only")
    atm_clock_skew: int = Field(300, ge=1, le=3600, description="seconds an ATM message's timestamp may be off")
    atm_hold_timeout: int = Field(
        120, ge=10, le=86_400, description="seconds an ATM has to confirm a dispense before the hold is released")
    settlement_cutoff: str | None = Field(
        "22:00", pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$",
        description="daily UTC time (HH:MM) after which every merchant is settled once a day; null: on demand only")
    webhook_max_attempts: int = Field(8, ge=1, le=30, description="deliveries tried before a webhook event fails")
    webhook_backoff: float = Field(
        30.0, ge=0.01, le=3600, description="seconds before the first retry of a webhook; doubled each time")
    webhook_timeout: float = Field(10.0, ge=0.1, le=60, description="seconds a merchant has to answer a webhook")
    webhook_proxy: str | None = Field(
        None, description="an egress proxy (http://host:port) that every webhook goes through; it resolves and "
                          "connects, so outside local the node then checks only the URL "
                          "(node.merchants.webhook_targets)")
    notify_large_payment: int = Field(
        1_000_000, ge=1, le=2**63 - 1, description="minor units: a payment out of a customer's wallet at or above "
                                                   "this is also notified as large_payment (node.notifications)")
    notification_heartbeat: float = Field(
        15.0, ge=0.05, le=300, description="seconds between heartbeat comments on an idle notification stream (SSE)")
    notification_streams_max: int = Field(
        1_000, ge=1, le=1_000_000, description="notification streams (SSE) one API process serves at once; one more "
                                               "is refused with 503")
    risk_rules: list[dict[str, Any]] | None = Field(
        None, description="the risk engine's rules (docs/risk.md; node.risk.rules.Rule each); null: the defaults. "
                           "A set changed through the API (PUT /v1/risk/rules) replaces them")
    risk_timezone: str = Field(
        "UTC", pattern=r"^[A-Za-z0-9_+/-]{1,64}$", description="the bank's time zone (IANA), for the night rule")
    risk_review_timeout: int = Field(
        3600, ge=60, le=30 * 86_400, description="seconds a payment held for review waits before it is declined")
    customer_session_ttl: int = Field(
        900, ge=30, le=4 * 3600, description="seconds a customer session token lives (a login backend may ask for "
                                             "less); 15 min by default, 4 h at most")
    app_keys_act_for_any_customer: bool = Field(
        False, description="transition for apps not yet on customer sessions: a bare `app` API key acts on any "
                           "customer's wallets as before customer sessions existed; local environments only")
    api_max_in_flight: int = Field(32, ge=1, le=10_000, description="requests the API runs at once; the rest wait")
    api_queue_timeout: float = Field(
        10.0, ge=0, le=300, description="seconds a request may wait for its turn before a 503 service-unavailable")
    api_max_body: int = Field(
        65_536, ge=1024, le=64 * 1024 * 1024, description="bytes a request body may have; larger ones get a 413")
    api_body_timeout: float = Field(
        10.0, gt=0, le=300, description="seconds a client has to send a request's whole body; then a 408")
    api_key_cache_seconds: float = Field(
        1.0, ge=0, le=60, description="seconds the API remembers who a key or customer session is, so a request "
                                      "needs no database read to authenticate; a key or session revoked elsewhere "
                                      "(the CLI, another process) is refused within this; 0: read every time")
    idempotency_retention: int = Field(
        86_400, ge=60, le=366 * 86_400,
        description="seconds a completed Idempotency-Key (and its recorded answer) is kept; then it is pruned and "
                    "the same key is a new request")
    log_format: Literal["json", "text"] = Field(
        "json", description="how `walletnet node run` and the API server log: one JSON object per line, or text for "
                            "people")
    role_grace_seconds: float = Field(
        15.0, ge=1, le=3600, description="seconds a role (writer, indexer, jobs) may have no active process before "
                                         "/v1/health/ready answers 503")
    config_file: Path | None = Field(None, validation_alias=CONFIG_ENV_VAR, exclude=True,
                                     description="the TOML/JSON file these settings were read from")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        init_kwargs: dict[str, Any] = getattr(init_settings, "init_kwargs", {})
        named = init_kwargs.get("config_file") or init_kwargs.get(CONFIG_ENV_VAR) or os.environ.get(CONFIG_ENV_VAR)
        return init_settings, env_settings, _ConfigFileSource(settings_cls, Path(named) if named else None)

    # ------------------------------------------------------------------ field checks

    @field_validator("bank_id")
    @classmethod
    def _check_bank_id(cls, value: str) -> str:
        if not _BANK_ID.fullmatch(value):
            raise ValueError("bank_id is 2-16 characters: an upper-case letter, then A-Z, 0-9 or _")
        return value

    @field_validator("rpc_url")
    @classmethod
    def _check_rpc_url(cls, value: str) -> str:
        if not re.match(r"^(https?|wss?)://[^\s/]+", value):
            raise ValueError("rpc_url must be an http(s):// or ws(s):// URL")
        return value

    @field_validator("risk_timezone")
    @classmethod
    def _check_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"risk_timezone {value!r} is not an IANA time zone") from None
        return value

    @field_validator("webhook_proxy")
    @classmethod
    def _check_webhook_proxy(cls, value: str | None) -> str | None:
        if value and not re.match(r"^https?://[^\s/]+/?$", value):
            raise ValueError("webhook_proxy must be an http(s)://host:port URL")
        return value or None

    @field_validator("operator_password_env")
    @classmethod
    def _check_env_name(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
            raise ValueError("operator_password_env is the NAME of an environment variable, not a password")
        return value

    @field_validator("db_url")
    @classmethod
    def _check_db_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        try:
            url = make_url(value.get_secret_value())
        except ArgumentError:
            raise ValueError("db_url is not a SQLAlchemy database URL") from None
        if url.get_backend_name() not in ("sqlite", "postgresql"):
            raise ValueError("db_url must be a sqlite:// or postgresql:// URL")
        if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
            raise ValueError("an in-memory SQLite database would lose every posting: give a file")
        return value

    @model_validator(mode="after")
    def _check_consistency(self) -> NodeSettings:
        if self.operator_password_env and self.operator_password_file:
            raise ValueError("give one password source: operator_password_env or operator_password_file")
        if self.operator_keystore is not None and not (self.operator_password_env or self.operator_password_file):
            raise ValueError("operator_keystore needs a password source (operator_password_env or _file)")
        if self.second_factor_lockout_max < self.second_factor_lockout:
            raise ValueError("second_factor_lockout_max must be at least second_factor_lockout")
        if self.environment is not Environment.LOCAL:
            self._refuse_unsafe()
        return self

    def _refuse_unsafe(self) -> None:
        env = self.environment.value
        if self.app_keys_act_for_any_customer:
            raise ValueError(f"{env}: app_keys_act_for_any_customer lets one app key move any customer's wallet; "
                             "it is for local development only: give apps customer session tokens")
        missing = [name for name in _REQUIRED_OUTSIDE_LOCAL if name not in self.model_fields_set]
        if missing:
            raise ValueError(f"{env}: set {', '.join(missing)} explicitly; the defaults are for a local network")
        assert self.operator_keystore is not None
        if not self.operator_keystore.is_file():
            raise ValueError(f"{env}: operator_keystore {self.operator_keystore} does not exist")
        if self.operator_password_file is not None:
            try:
                mode = self.operator_password_file.stat().st_mode
            except OSError:
                raise ValueError(f"{env}: operator_password_file {self.operator_password_file} is missing") from None
            if mode & (stat.S_IRWXG | stat.S_IRWXO):
                raise ValueError(f"{env}: operator_password_file {self.operator_password_file} is readable by "
                                 "others; chmod 600 it")
        address = self._keystore_address()
        if address is not None and address.lower() in _dev_addresses():
            raise ValueError(f"{env}: operator key {address} is a public development key (anvil's test mnemonic)")

    # ------------------------------------------------------------------ derived values

    @property
    def database_url(self) -> str:
        """``db_url``, or the default SQLite file of this bank under ``data_dir``."""
        if self.db_url is not None:
            return self.db_url.get_secret_value()
        return f"sqlite:///{self.data_dir / self.bank_id.lower() / 'node.sqlite3'}"

    @property
    def deployment_path(self) -> Path:
        return self.deployment_file if self.deployment_file is not None else self.data_dir / "deployment.json"

    def database_url_for_display(self) -> str:
        """The database URL with any password masked."""
        return make_url(self.database_url).render_as_string(hide_password=True)

    def operator_password(self) -> SecretStr:
        """The operator keystore's password, read from its source now."""
        if self.operator_password_env:
            value = os.environ.get(self.operator_password_env)
            if not value:
                raise OperatorPasswordError(f"environment variable {self.operator_password_env} is not set")
            return SecretStr(value)
        if self.operator_password_file is not None:
            try:
                text = self.operator_password_file.read_text()
            except OSError as exc:
                raise OperatorPasswordError(
                    f"cannot read operator_password_file {self.operator_password_file}: {exc.strerror}") from None
            value = text.rstrip("\r\n")
            if not value:
                raise OperatorPasswordError(f"operator_password_file {self.operator_password_file} is empty")
            return SecretStr(value)
        raise OperatorPasswordError("no operator password source is configured")

    def _keystore_address(self) -> str | None:
        assert self.operator_keystore is not None
        try:
            data = json.loads(self.operator_keystore.read_text())
        except (OSError, ValueError):
            raise ValueError(f"operator_keystore {self.operator_keystore} is not a JSON keystore") from None
        stated = data.get("address") if isinstance(data, dict) else None
        if isinstance(stated, str) and re.fullmatch(r"(0x)?[0-9a-fA-F]{40}", stated):
            return "0x" + stated.lower().removeprefix("0x")
        from wallet_sdk.keys import WalletKey  # no stated address: decrypt to learn it

        key = WalletKey.from_keystore(data, self.operator_password().get_secret_value())
        return str(key.address)

    def __repr_args__(self) -> Any:
        yield from super().__repr_args__()
        yield "db_url", self.database_url_for_display()


@cache
def _dev_addresses() -> frozenset[str]:
    from wallet_sdk.devkeys import dev_accounts

    return frozenset(acct.address.lower() for acct in dev_accounts(DEV_ACCOUNTS_CHECKED))


def load_settings(config_file: str | os.PathLike[str] | None = None, **overrides: Any) -> NodeSettings:
    """Settings from ``overrides``, the environment, and ``config_file`` (or ``$WALLETNET_CONFIG``)."""
    if config_file is not None:
        overrides["config_file"] = Path(config_file)
    return NodeSettings(**overrides)
