"""Settings files as pydantic models: sections that refuse unknown keys, and one-line errors naming the file, the
dotted key, the value and what was expected. Run configs (:mod:`flarecast.config`) are built on it; YAML reading
and dotted ``key=value`` overrides live here too, for configs and batch jobs alike.
"""

from __future__ import annotations

import contextvars
import re
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError

from flarecast.errors import ConfigError, ParseError
from flarecast.safeio import clip, load_yaml, loads_yaml, short

_DEPTH: contextvars.ContextVar[int] = contextvars.ContextVar("flarecast_config_depth", default=0)


class Section(BaseModel):
    """A config section: frozen, no unknown keys, numbers given as text (YAML 1.1 reads ``3e-4`` as text) parsed."""

    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)

    def __init__(self, **data: Any) -> None:
        # Built in code (``SampleConfig(cadence="1h")``) rather than by :func:`validate`: the same one-line error.
        # pydantic runs this for nested sections too; only the outermost call turns the error into one line.
        token = _DEPTH.set(_DEPTH.get() + 1)
        try:
            super().__init__(**data)
        except ValidationError as exc:
            if _DEPTH.get() > 1:
                raise
            raise ConfigError(_describe(exc.errors()[0], type(self), "")) from None
        finally:
            _DEPTH.reset(token)


def Choice(allowed) -> Any:  # noqa: N802  (used as a type: ``device: Choice(("cpu", "cuda")) = "cpu"``)
    """Text that must be one of ``allowed``: the constraint declared once on the field, not in a validator."""
    return Annotated[str, AfterValidator(lambda v: one_of(v, tuple(allowed)))]


def one_of(value, allowed) -> Any:
    if value not in allowed:
        raise ValueError(f"expected one of {list(allowed)}")
    return value


def positive_duration(value: str) -> str:
    try:
        td = pd.Timedelta(value)
    except (ValueError, TypeError):
        raise ValueError("expected a duration such as '10min', '24h' or '2D'") from None
    if td <= pd.Timedelta(0):
        raise ValueError("expected a positive duration")
    return value


def validate(model: type[BaseModel], data: Any, *, origin: str, prefix: str = "",
             describe: Callable[[dict], str] | None = None):
    """``model.model_validate(data)``, a pydantic error turned into one :class:`ConfigError` line naming
    ``origin`` (the file), the dotted key, the value and what was expected.

    An unknown key is reported first (a misspelt key also leaves its field missing); ``describe`` words a
    pydantic error dict where the default does not (a union of models: name the member)."""
    if not isinstance(data, dict):
        raise ConfigError(f"{origin}: {prefix.rstrip('.') or 'config'} must be a mapping, got {short(data)}")
    token = _DEPTH.set(_DEPTH.get() + 1)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
        text = describe(first) if describe else _describe(first, model, prefix)
        raise ConfigError(f"{origin}: {text}") from None
    finally:
        _DEPTH.reset(token)


def describe(error: dict, model: type[BaseModel], prefix: str = "") -> str:
    """One pydantic error dict of ``model`` in words: the dotted key, the value and what was expected."""
    return _describe(error, model, prefix)


_EXPECTED = {"int": "an integer", "float": "a number", "string": "text", "bool": "true or false",
             "tuple": "a list", "list": "a list", "dict": "a mapping", "model": "a mapping"}


def _describe(e: dict, model: type[BaseModel], prefix: str) -> str:
    loc = [str(p) for p in e["loc"] if not isinstance(p, int) and not str(p).startswith(("function-", "constrained"))]
    # Union members add their type name to the location (``float``, ``dict[str,float]``): not a key.
    loc = [p for p in loc if not re.match(r"^(float|int|str|dict\[.*|none)$", p)]
    key = prefix + ".".join(loc)
    msg = str(e["msg"]).removeprefix("Value error, ")
    if e["type"] == "extra_forbidden":
        section = model
        for part in loc[:-1]:
            section = section.model_fields[part].annotation
        return f"unknown key '{key}'; expected one of {sorted(f.alias or n for n, f in section.model_fields.items())}"
    if e["type"] == "missing":  # a key without a default: its field's description says what it takes
        field = model.model_fields.get(loc[-1]) if len(loc) == 1 else None
        return f"'{key}' is missing" + (f": expected {field.description}" if field and field.description else "")
    if e["type"] == "value_error" and msg.startswith(("samples.", "train.", "model.")):
        return msg  # a check across keys: its message names them
    kind = e["type"].split("_")[0]
    if e["type"].endswith(("_type", "_parsing")) and kind in _EXPECTED:
        msg = f"expected {_EXPECTED[kind]}"
    elif e["type"] in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        msg = f"expected a number {msg.removeprefix('Input should be ')}"
    elif e["type"] == "too_short":
        msg = f"expected at least {e['ctx']['min_length']} entry"
    value = e.get("input")
    return f"{key or 'config'} = {short(value)}: {clip(msg)}"


def read_yaml(path: str | Path, *, what: str, example: str, expected: str) -> dict[str, Any]:
    """A YAML file holding a mapping, or a :class:`ConfigError` naming the file and what was wrong."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{what} {str(path)!r} does not exist: pass a YAML file such as {example}")
    try:
        data = load_yaml(path) or {}
    except ParseError as exc:
        raise ConfigError(str(exc)) from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected {expected}, got {type(data).__name__}")
    return data


def apply_overrides(data: dict[str, Any], overrides: list[str] | None, *, example: str) -> dict[str, Any]:
    """Apply ``dotted.key=value`` overrides in place; values are parsed as YAML (``[a, b]``, ``null``, ``3``)."""
    for item in overrides or []:
        key, sep, raw = item.partition("=")
        if not sep:
            raise ConfigError(f"override {item!r}: expected KEY=VALUE, such as {example}")
        try:
            value = loads_yaml(raw, f"override {short(item)}")
        except ParseError as exc:
            raise ConfigError(str(exc)) from None
        set_dotted(data, key.strip().lstrip("-"), value, origin=f"override {short(item)}")
    return data


def set_dotted(d: dict, key: str, value: Any, *, origin: str) -> None:
    parts = key.split(".")
    for p in parts[:-1]:
        nxt = d.setdefault(p, {})
        if not isinstance(nxt, dict):
            raise ConfigError(f"{origin}: {key!r} goes through {p!r}, which is not a section")
        d = nxt
    d[parts[-1]] = value
