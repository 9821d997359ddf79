"""Settings of ancrage, read in one place: paths, the online geocoder and the service's limits.

One :class:`Settings` object (pydantic-settings) reads the ``ANCRAGE_*`` environment
variables; unknown keyword arguments are refused, so a typo fails loudly instead of
being silently ignored, and an empty variable is an error rather than a silent
fallback::

    >>> from geo import _config
    >>> settings = _config.Settings(cache_dir="/tmp/c")
    >>> settings.cache_dir.name
    'c'
    >>> _config.Settings(cach_dir="/tmp")
    Traceback (most recent call last):
    ...
    geo._errors.InvalidParameterError: unknown setting 'cach_dir'; known settings: ...

========================  ==========================  =====================================
setting                   environment variable        default
========================  ==========================  =====================================
``cache_dir``             ``ANCRAGE_CACHE``           ``~/.cache/ancrage``
``data_dir``              ``ANCRAGE_DATA``            ``data/communes`` of the project
``store``                 ``ANCRAGE_STORE``           ``data/ancrage.gpkg`` of the project
``indicators_dir``        ``ANCRAGE_INDICATORS``      ``data/indicators`` of the project
``reference_dir``         ``ANCRAGE_REFERENCE``       ``data/reference`` of the project
``geocoder_url``          ``ANCRAGE_GEOCODER_URL``    none (offline geocoding only)
``api_keys``              ``ANCRAGE_API_KEYS``        none (the service refuses writes)
``upload_max_mb``         ``ANCRAGE_UPLOAD_MAX_MB``   50
``cache_size``            ``ANCRAGE_CACHE_SIZE``      64 (maps and results kept in memory)
========================  ==========================  =====================================
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any

from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from geo._errors import InvalidParameterError

__all__ = ["PROJECT_ROOT", "Settings", "get_settings"]

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _env(name: str, env: str) -> AliasChoices:
    return AliasChoices(name, env)


class Settings(BaseSettings):
    """Settings of the library and the service, from keyword arguments or ``ANCRAGE_*``.

    Parameters
    ----------
    **values
        Any setting of the table in the module docstring; a keyword argument wins over
        the environment. Unknown names and empty values raise
        :class:`~geo._errors.InvalidParameterError`.
    """

    model_config = SettingsConfigDict(
        extra="forbid", validate_assignment=True, populate_by_name=True, frozen=False
    )

    cache_dir: Path = Field(
        default_factory=lambda: Path.home() / ".cache" / "ancrage",
        validation_alias=_env("cache_dir", "ANCRAGE_CACHE"),
    )
    data_dir: Path = Field(
        default_factory=lambda: PROJECT_ROOT / "data" / "communes",
        validation_alias=_env("data_dir", "ANCRAGE_DATA"),
    )
    store: Path = Field(
        default_factory=lambda: PROJECT_ROOT / "data" / "ancrage.gpkg",
        validation_alias=_env("store", "ANCRAGE_STORE"),
    )
    indicators_dir: Path = Field(
        default_factory=lambda: PROJECT_ROOT / "data" / "indicators",
        validation_alias=_env("indicators_dir", "ANCRAGE_INDICATORS"),
    )
    reference_dir: Path = Field(
        default_factory=lambda: PROJECT_ROOT / "data" / "reference",
        validation_alias=_env("reference_dir", "ANCRAGE_REFERENCE"),
    )
    geocoder_url: str | None = Field(
        default=None, validation_alias=_env("geocoder_url", "ANCRAGE_GEOCODER_URL")
    )
    api_keys: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(), validation_alias=_env("api_keys", "ANCRAGE_API_KEYS")
    )
    upload_max_mb: float = Field(
        default=50.0, validation_alias=_env("upload_max_mb", "ANCRAGE_UPLOAD_MAX_MB")
    )
    cache_size: int = Field(default=64, validation_alias=_env("cache_size", "ANCRAGE_CACHE_SIZE"))

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as err:
            raise InvalidParameterError(_describe(err)) from None

    @field_validator(
        "cache_dir", "data_dir", "store", "indicators_dir", "reference_dir", mode="before"
    )
    @classmethod
    def _path(cls, value: object) -> Path:
        if isinstance(value, str) and not value.strip():
            msg = "is empty, expected a path (unset the variable to use the default)"
            raise ValueError(msg)
        return Path(str(value)).expanduser()

    @field_validator("geocoder_url", mode="before")
    @classmethod
    def _url(cls, value: object) -> str | None:
        text = str(value).strip() if value is not None else ""
        return text or None

    @field_validator("api_keys", mode="before")
    @classmethod
    def _keys(cls, value: str | Iterable[object] | None) -> tuple[str, ...]:
        items = value.split(",") if isinstance(value, str) else list(value or ())
        keys = tuple(str(item).strip() for item in items if str(item).strip())
        if any(len(key) < 16 for key in keys):
            msg = "holds a key shorter than 16 characters, expected long random keys"
            raise ValueError(msg)
        return keys

    @field_validator("upload_max_mb")
    @classmethod
    def _upload(cls, value: float) -> float:
        if not math.isfinite(value) or not 0 < value <= 2048:
            msg = f"is {value}, expected a number of megabytes above 0 and at most 2048"
            raise ValueError(msg)
        return value

    @field_validator("cache_size")
    @classmethod
    def _cache(cls, value: int) -> int:
        if not 0 <= value <= 100_000:
            msg = f"is {value}, expected a whole number from 0 to 100000"
            raise ValueError(msg)
        return value


_ENV_NAMES = {
    name: next(a for a in field.validation_alias.choices if a.startswith("ANCRAGE_"))  # type: ignore[union-attr]
    for name, field in Settings.model_fields.items()
}


def _describe(err: ValidationError) -> str:
    parts = []
    for problem in err.errors():
        name = str(problem["loc"][0]) if problem["loc"] else "?"
        if problem["type"] == "extra_forbidden":
            known = ", ".join(Settings.model_fields)
            parts.append(f"unknown setting {name!r}; known settings: {known}")
            continue
        env = _ENV_NAMES.get(name) or next((n for n, e in _ENV_NAMES.items() if e == name), name)
        setting = f"{name} ({env})" if name in _ENV_NAMES else f"{env} ({name})"
        reason = str(problem["msg"]).removeprefix("Value error, ")
        parts.append(f"setting {setting} {reason}")
    return "; ".join(parts)


def get_settings(**overrides: Any) -> Settings:
    """Return the settings as the environment sets them now, with ``overrides`` on top.

    Returns
    -------
    Settings
        A fresh object (a copy: changing it changes no one else's), as the
        ``ANCRAGE_*`` variables and ``HOME`` are set at the time of the call.

    Examples
    --------
    >>> get_settings(upload_max_mb=10).upload_max_mb
    10.0
    """
    if overrides:
        return Settings(**overrides)
    environment = tuple(
        sorted((k, v) for k, v in os.environ.items() if k.startswith("ANCRAGE_") or k == "HOME")
    )
    return _settings_of(environment).model_copy()


@functools.lru_cache(maxsize=8)
def _settings_of(environment: tuple[tuple[str, str], ...]) -> Settings:
    """Settings validated once per state of the environment (``environment`` is the key)."""
    del environment  # the key only: Settings reads the variables itself
    return Settings()

