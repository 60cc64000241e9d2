"""JSON output that strict parsers accept: NaN and infinities become null, NumPy scalars and arrays plain values,
and a typed document (a pydantic model: a card, ``metrics.json``, a training summary) its ``to_dict()``."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np


def jsonable(obj: Any) -> Any:
    if hasattr(obj, "model_dump") and hasattr(obj, "to_dict"):  # a typed document, written through its type
        return jsonable(obj.to_dict())
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return jsonable(obj.item())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, int | float | str | bool) or obj is None:
        return obj
    return str(obj)


def dumps(obj: Any, indent: int | None = 2) -> str:
    return json.dumps(jsonable(obj), indent=indent, allow_nan=False)


def write_json(path: str | Path, obj: Any) -> None:
    """Write ``obj`` as JSON (:func:`dumps`) beside ``path`` and rename it there: whole or absent."""
    from flarecast.util import atomic_write_text

    atomic_write_text(path, dumps(obj) + "\n")
