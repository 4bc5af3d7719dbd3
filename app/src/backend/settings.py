"""The service's configuration: one class, read from `BACKEND_*` variables and a secrets dir."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from backend.database_url import DatabaseURLError, parse_database_url

ENV_PREFIX = "BACKEND_"
DEFAULT_SECRETS_DIR = Path("/etc/backend/secrets")
# Only these settings may come from a file in the secrets dir (a mounted Kubernetes Secret).
SECRET_FIELDS = frozenset({"database_url"})

LogLevel = Literal["debug", "info", "warning", "error", "critical"]
SSLMode = Literal["disable", "prefer", "require", "verify-ca", "verify-full"]
PositiveSeconds = Annotated[float, Field(gt=0, le=3600)]


class ConfigError(Exception):
    """An invalid setting: the message is one line that names it and says what is expected."""


class SecretFiles(PydanticBaseSettingsSource):
    """One file per secret setting, named like the field (`database_url`): a mounted Secret.

    pydantic-settings' own secrets source would expect the env prefix in the file names
    and would let a stray file set any setting; this one reads the secret fields only.
    """

    def __init__(self, settings_cls: type[BaseSettings], directory: Path | None) -> None:
        super().__init__(settings_cls)
        self._directory = directory

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        if self._directory is None or field_name not in SECRET_FIELDS:
            return None, field_name, False
        path = self._directory / field_name
        return read_secret_file(path, field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, field in self.settings_cls.model_fields.items():
            value, key, _ = self.get_field_value(field, name)
            if value is not None:
                values[key] = value
        return values


def read_secret_file(path: Path, field_name: str) -> str | None:
    """The one line of a secret file, or None when there is no file.

    Every refusal names the file and never its content: a second line or a stray byte
    could be (part of) the secret.
    """
    name = f"{ENV_PREFIX}{field_name.upper()}"
    if not path.exists():
        return None
    if not path.is_file():
        kind = "a directory" if path.is_dir() else "a special file"
        raise ConfigError(
            f"{name}: {path} is {kind}, not a file; mount the Secret's key "
            f"{field_name!r} as a file (items/subPath), or remove it"
        )
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{name}: {path} is not UTF-8 text; write the value as UTF-8") from None
    except OSError as exc:
        raise ConfigError(f"{name}: {path} cannot be read ({exc.strerror})") from None
    value = text.strip()
    if "\n" in value or "\r" in value:
        raise ConfigError(
            f"{name}: {path} has more than one line; a secret file holds the value on one line"
        )
    return value


class Settings(BaseSettings):
    """Every setting of the service; each is documented in app/README.md."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        # Not "forbid": Kubernetes adds BACKEND_SERVICE_HOST, BACKEND_PORT_8000_TCP and the like
        # for a Service named "backend" (service links), and those must not stop the server.
        extra="ignore",
        case_sensitive=False,
        validate_default=True,
        frozen=True,
    )

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    data_dir: Path = Path("data")
    database_url: SecretStr | None = None
    log_level: LogLevel = "info"
    access_log_probes: bool = False
    drain_delay_seconds: float = Field(default=5.0, ge=0, le=300)
    shutdown_timeout_seconds: float = Field(default=15.0, ge=0, le=300)
    db_pool_size: int = Field(default=5, ge=1, le=100)
    db_max_overflow: int = Field(default=5, ge=0, le=100)
    db_pool_timeout_seconds: PositiveSeconds = 5.0
    db_connect_timeout_seconds: PositiveSeconds = 5.0
    db_ssl_mode: SSLMode | None = None
    db_ssl_root_cert: Path | None = None
    # Server-side prepared statements break behind a transaction-mode pooler (PgBouncer,
    # Neon's pooled endpoint), so they are off unless the operator knows the path is direct.
    db_prepared_statements: bool = False
    readiness_cache_seconds: float = Field(default=1.0, ge=0, le=60)
    readiness_timeout_seconds: PositiveSeconds = 2.0
    max_body_bytes: int = Field(default=64 * 1024, ge=1024, le=64 * 1024 * 1024)
    # The request line and headers: bounded in size, count and arrival time (ADR 0016).
    max_header_bytes: int = Field(default=16 * 1024, ge=1024, le=1024 * 1024)
    max_headers: int = Field(default=100, ge=10, le=1000)
    header_timeout_seconds: PositiveSeconds = 10.0
    max_connections: int = Field(default=4096, ge=16, le=1_000_000)
    secrets_dir: Path | None = Field(default=None, exclude=True)
    pod_name: str | None = None
    pod_namespace: str | None = None
    version: str = "0.0.0-dev"
    git_commit: str = "unknown"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Environment first, then the secret files; no .env file is read.
        directory = init_settings.init_kwargs.get("secrets_dir")  # type: ignore[attr-defined]
        return init_settings, env_settings, SecretFiles(settings_cls, directory)

    @field_validator("port", mode="before")
    @classmethod
    def _not_a_service_link(cls, value: Any) -> Any:
        if isinstance(value, str) and value.startswith("tcp://"):
            raise ValueError(
                f"{value!r} is a Kubernetes service-link variable (a Service named 'backend'), "
                "not a port; set enableServiceLinks: false on the pod or set BACKEND_PORT"
            )
        return value

    @field_validator("host")
    @classmethod
    def _host_not_empty(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must be an address to listen on, e.g. 127.0.0.1 or 0.0.0.0")
        return value

    @field_validator("db_ssl_root_cert")
    @classmethod
    def _root_cert_exists(cls, value: Path | None) -> Path | None:
        if value is not None and not _readable_file(value):
            raise ValueError(f"{value} is not a readable file; mount the CA bundle there")
        return value

    @model_validator(mode="after")
    def _database_url_parses(self) -> Settings:
        try:
            url = parse_database_url(self.effective_database_url)
        except DatabaseURLError as exc:
            raise ValueError(f"database_url: {exc}") from None
        # BACKEND_DB_SSL_ROOT_CERT, when set, replaces the URL's sslrootcert (db.connect_args).
        root_cert = url.ssl_root_cert
        if self.db_ssl_root_cert is None and root_cert and not _readable_file(Path(root_cert)):
            raise ValueError(
                f"database_url: sslrootcert={root_cert} is not a readable file; "
                "mount the CA bundle there"
            )
        return self

    @property
    def effective_database_url(self) -> str:
        """The configured URL, or the embedded SQLite default under the data dir."""
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        return f"sqlite+aiosqlite:///{(self.data_dir / 'backend.db').absolute()}"


def _readable_file(path: Path) -> bool:
    return path.is_file() and os.access(path, os.R_OK)


def _describe(error: dict[str, Any]) -> str:
    """One line for one pydantic error: the environment variable, then what is wrong."""
    loc = [str(part) for part in error.get("loc", ())]
    message = str(error.get("msg", "invalid value"))
    if loc:
        field = loc[0]
    elif message.startswith("Value error, database_url:"):
        field = "database_url"
    else:
        field = ""
    message = message.removeprefix("Value error, ").removeprefix("database_url: ")
    name = f"{ENV_PREFIX}{field.upper()}" if field else "configuration"
    if (
        field
        and field not in SECRET_FIELDS
        and "input" in error
        and repr(error["input"]) not in message
    ):
        message = f"{message} (got {error['input']!r})"
    return f"{name}: {message}"


def load_settings() -> Settings:
    """Read the settings, or raise ConfigError with a single line naming the bad setting."""
    secrets_dir = Path(os.environ.get(f"{ENV_PREFIX}SECRETS_DIR", str(DEFAULT_SECRETS_DIR)))
    kwargs: dict[str, Any] = {}
    if secrets_dir.is_dir():
        kwargs["secrets_dir"] = secrets_dir
    elif secrets_dir.exists():
        raise ConfigError(f"{ENV_PREFIX}SECRETS_DIR: {secrets_dir} exists but is not a directory")
    try:
        return Settings(**kwargs)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        line = _describe(dict(errors[0]))
        if len(errors) > 1:
            line += f" (and {len(errors) - 1} more invalid setting(s))"
        raise ConfigError(line.replace("\n", " ")) from None
