"""Text from a remote answer that becomes a line of a saved file: one field on one line, or refused.

The saved CSVs are read line by line (:func:`flarecast.ingest.readers.rows.text_table`), so a field sent with a
line break would add a row to the file and then to the store (a HEK class of ``"C1.0\\n...;X9.9;..."`` is a fake
X9.9 flare). A field holding a line break, another control character, or the file's separator or quote is
refused, naming the record and the field; nothing is written.
"""

from __future__ import annotations

import re

from flarecast.safeio import short

BREAKS = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")
"""Control characters but the tab (``\\n``, ``\\r``, NUL, NEL...) and Unicode's line and paragraph separators."""


def bad_char(text: str, forbidden: str = "") -> str | None:
    """The first character of ``text`` that cannot stand in one field of a one-line record, or None."""
    m = BREAKS.search(text)
    bad = [i for i in (m.start() if m else -1, *(text.find(c) for c in forbidden)) if i >= 0]
    return text[min(bad)] if bad else None


def one_line(value, *, record: int, field: str, forbidden: str = "") -> str:
    """``str(value)`` when it can be written as one field of one line; else ValueError naming what it holds."""
    text = str(value)
    ch = bad_char(text, forbidden)
    if ch is not None:
        raise ValueError(f"record {record}: {field} = {short(text)} holds {short(ch)}, which would break the "
                         "saved file's rows")
    return text


HEK_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z?")
"""A HEK event time: ISO 8601 in UTC, ``2011-02-15T01:44:00`` with optional fraction and ``Z``. Checked before
parsing: pandas reads ``01:44:001`` as 01:44:01 and keeps an offset (``+05:00``) out of ``strftime``, so a lenient
parse would write a time the record did not hold."""

GOES_CLASS_TEXT = re.compile(r"^[A-Za-z0-9.,+ -]*$")
"""What a class field of a flare list may hold when written: letters, digits, ``.``, ``,`` (a decimal comma),
``+``, ``-`` and spaces; the reader judges the class itself."""
