"""Bounded readers of YAML and JSON: every settings file, card, job log and JSON data file goes through here.

A file flarecast reads may come from a feed, a colleague or an attacker, so parsing it must not be turned on
the host. Every reader here:

- refuses a file over a size cap before reading it (:data:`YAML_BYTES`, :data:`JSON_BYTES`);
- refuses text that is not UTF-8, naming the byte offset;
- refuses nesting deeper than :data:`DEPTH` levels (a 100k-deep ``[[[...`` is one line, not a RecursionError);
- refuses a key given twice in one mapping or object, naming the key (the later one would silently replace the
  earlier: two job steps of the same name, two cards' ``horizon``);
- refuses YAML aliases (``*name``) and merge keys outright: a settings file never needs them, and nested
  aliases expand exponentially (a 346-byte "billion laughs" file used to take 24 s and 2.7 GB);
- raises :class:`~flarecast.errors.ParseError`, whose message is one line of bounded length (:func:`short`).
"""

from __future__ import annotations

import json
import reprlib
from pathlib import Path
from typing import Any

import yaml

from flarecast.errors import ParseError

YAML_BYTES = 1 << 20
"""The largest YAML file read (1 MiB): configs and job files are a few kB."""

JSON_BYTES = 256 << 20
"""The largest JSON file read (256 MiB): forecasts, OOF predictions, SWPC and CCMC files."""

DEPTH = 64
"""The deepest nesting of lists and mappings read; flarecast's own files nest at most 6 levels."""

LINE = 160
"""The longest value a message quotes, in characters (the rest is cut and counted)."""

_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxstring, _REPR.maxother, _REPR.maxlist, _REPR.maxdict = 3, LINE // 2, LINE // 2, 8, 6


def short(value: Any, limit: int = LINE) -> str:
    """``repr(value)`` on one line of at most about ``limit`` characters, without building the whole repr.

    >>> short("abc"), len(short("x" * 10**6)) <= LINE, short(list(range(100)))
    ("'abc'", True, '[0, 1, 2, 3, 4, 5, 6, 7, ...]')
    """
    text = _REPR.repr(value)
    if "..." not in text:  # nothing was cut: the plain repr is as short, and keeps a mapping's order
        text = repr(value)
    text = text.replace("\n", "\\n")
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"


def clip(text: str, limit: int = LINE) -> str:
    """``text`` on one line of at most about ``limit`` characters (the rest cut and counted)."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"


def read_text(path: str | Path, *, limit: int) -> str:
    """The file as UTF-8 text, refused when it is larger than ``limit`` bytes or not UTF-8."""
    path = Path(path)
    size = path.stat().st_size
    if size > limit:
        raise ParseError(path, f"{size} bytes, more than the {limit} this kind of file may have; is it the right "
                         "file?")
    with open(path, "rb") as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:  # grew while read
        raise ParseError(path, f"more than the {limit} bytes this kind of file may have; is it the right file?")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ParseError(path, f"not UTF-8 text (byte {short(data[exc.start:exc.start + 1])} at offset "
                         f"{exc.start}); save it as UTF-8") from None


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _Refused(f"key {short(key)} appears twice in one object; the later would silently replace the "
                           "earlier: remove one")
        out[key] = value
    return out


class _Refused(ValueError):
    """Raised inside a parser; turned into a :class:`ParseError` naming the file."""


def _check_depth(doc: Any, depth: int) -> None:
    """Refuse ``doc`` when lists and mappings nest deeper than ``depth`` (walked with a stack, not recursion)."""
    stack = [(doc, 1)]
    while stack:
        node, level = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        for child in children:
            if isinstance(child, dict | list):
                if level + 1 > depth:
                    raise _Refused(f"lists and objects nest more than {depth} levels deep")
                stack.append((child, level + 1))


def loads_json(text: str | bytes, origin: str | Path, *, depth: int = DEPTH) -> Any:
    """Parse JSON text from ``origin`` (a file name, or words such as "the card in its header")."""
    try:
        doc = json.loads(text, object_pairs_hook=_no_duplicates)
        _check_depth(doc, depth)
    except _Refused as exc:
        raise ParseError(origin, str(exc)) from None
    except RecursionError:
        raise ParseError(origin, f"lists and objects nest more than {depth} levels deep") from None
    except UnicodeDecodeError as exc:
        raise ParseError(origin, f"not UTF-8 text (offset {exc.start}); save it as UTF-8") from None
    except json.JSONDecodeError as exc:
        raise ParseError(origin, f"not valid JSON ({exc})") from None
    return doc


def load_json(path: str | Path, *, limit: int = JSON_BYTES, depth: int = DEPTH) -> Any:
    """A JSON file, bounded in size and depth, with no duplicate keys."""
    return loads_json(read_text(path, limit=limit), path, depth=depth)


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader (no ``!!python`` tags) without aliases, duplicate keys or deep nesting."""

    depth = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise _Refused(f"line {event.start_mark.line + 1}: alias *{clip(event.anchor, 40)}: aliases and "
                           "anchors are not allowed in flarecast's settings files; write the value out")
        self.depth += 1
        try:
            if self.depth > DEPTH:
                raise _Refused(f"line {self.peek_event().start_mark.line + 1}: lists and mappings nest more than "
                               f"{DEPTH} levels deep")
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                key, line = self.construct_object(key_node, deep=True), key_node.start_mark.line + 1
                try:
                    first = seen.get(key)
                except TypeError:  # an unhashable key: the constructor refuses it in its own words
                    continue
                seen.setdefault(key, line)
                if first is not None:
                    raise _Refused(f"line {line}: key {short(key)} is given twice in one mapping (first on line "
                                   f"{first}); the later would silently replace the earlier: remove or rename one")
        return super().construct_mapping(node, deep=deep)


def loads_yaml(text: str, origin: str | Path) -> Any:
    """Parse YAML text from ``origin`` (a file name, or words such as "override 'a=b'")."""
    loader = _Loader(text)
    try:
        return loader.get_single_data()
    except _Refused as exc:
        raise ParseError(origin, str(exc)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        what = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ParseError(origin, f"{where}not valid YAML ({clip(what)})") from None
    finally:
        loader.dispose()


def load_yaml(path: str | Path, *, limit: int = YAML_BYTES) -> Any:
    """A YAML file, bounded in size and depth, with no aliases and no duplicate keys."""
    return loads_yaml(read_text(path, limit=limit), path)
