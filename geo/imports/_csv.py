"""Read a CSV file as users export it: any BOM, UTF-8, UTF-16, Windows-1252; ``;`` ``,`` or tab.

Rows are read with the :mod:`csv` module so that each record knows the line it
starts on *as the user sees it in an editor* (the header is line 1), even when a
quoted field spans several lines.
"""

from __future__ import annotations

import csv
import io
import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from geo._errors import ImportFileError
from geo.imports._common import UTF16_BOMS, Parsed
from geo.layers import RowProblem

_BOM = b"\xef\xbb\xbf"
_DELIMITERS = (";", ",", "\t", "|")
_SEP_HINT = re.compile(r"^\s*sep=(.)\s*$")


def decode(data: bytes) -> tuple[str, str]:
    """Decode file bytes: UTF-16 with a BOM; else strip every leading UTF-8 BOM and try
    UTF-8, then Windows-1252.

    Returns
    -------
    tuple
        ``(text, encoding)`` where encoding is ``"utf-16"`` (Excel's "Unicode text"),
        ``"utf-8"``, ``"utf-8-sig"`` (BOM found), ``"cp1252"`` or ``"latin-1"``.

    Examples
    --------
    >>> decode(b"\\xef\\xbb\\xbf\\xef\\xbb\\xbfNom")
    ('Nom', 'utf-8-sig')
    >>> decode("Côte".encode("cp1252"))
    ('Côte', 'cp1252')
    >>> decode("Nom;Côte".encode("utf-16"))
    ('Nom;Côte', 'utf-16')
    """
    if data.startswith(UTF16_BOMS):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as err:
            msg = f"the file starts with a UTF-16 byte-order mark but is not UTF-16 text ({err})"
            raise ImportFileError(msg) from err
    body = data
    while body.startswith(_BOM):
        body = body[len(_BOM) :]
    for encoding in ("utf-8", "cp1252", "latin-1"):
        try:
            text = body.decode(encoding)
        except UnicodeDecodeError:
            continue
        bom = encoding == "utf-8" and body is not data
        return text, "utf-8-sig" if bom else encoding
    raise AssertionError("latin-1 decodes any byte string")  # pragma: no cover


def sniff_delimiter(header_line: str) -> str:
    """The most frequent of ``; , TAB |`` in the header line (``,`` when none).

    Examples
    --------
    >>> sniff_delimiter("Nom;Type de voie (rue, avenue, etc.);Code")
    ';'
    """
    counts = {d: header_line.count(d) for d in _DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _records(text: str, delimiter: str) -> tuple[list[list[str]], list[int]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[list[str]] = []
    starts: list[int] = []
    previous_end = 0
    try:
        for row in reader:
            start, previous_end = previous_end + 1, reader.line_num
            if any(field.strip() for field in row):
                rows.append(row)
                starts.append(start)
    except csv.Error as err:
        msg = f"line {reader.line_num}: the CSV cannot be read ({err}); check the quotes"
        raise ImportFileError(msg) from err
    return rows, starts


def _fast(text: str, delimiter: str) -> tuple[pd.DataFrame, np.ndarray] | None:
    """Parse with pyarrow when line numbers follow from the data alone, else None.

    Applies when the header is one line and no blank line separates records: the
    record ``i`` then starts after the lines of the records before it, which the
    newlines inside quoted values tell. Rows of the wrong width make pyarrow fail;
    the exact reader then reports them one by one.
    """
    end = len(text)  # the text is large: search it in place rather than copy it
    while end and text[end - 1] in "\r\n":
        end -= 1
    newline = text.find("\n", 0, end)
    first_line = text[: newline if newline >= 0 else end]
    blank = text.find("\n\n", 0, end) >= 0 or text.find("\n\r\n", 0, end) >= 0
    if blank or first_line.count('"') % 2:
        return None
    header = next(csv.reader([first_line], delimiter=delimiter))
    names = [f"c{i}" for i in range(len(header))]
    try:
        table = pacsv.read_csv(
            io.BytesIO(text.encode("utf-8")),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                null_values=[""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )
    except pa.ArrowInvalid:
        return None
    extra = np.zeros(table.num_rows, dtype=np.int64)
    for column in table.columns:
        counts = pc.count_substring(column, "\n").fill_null(0)
        extra += counts.to_numpy(zero_copy_only=False)
    starts = 2 + np.concatenate([[0], np.cumsum(extra + 1)])[: table.num_rows].astype(int)
    frame = table.to_pandas()
    del table
    pa.default_memory_pool().release_unused()  # the parser's buffers, kept for reuse otherwise
    frame.columns = _unique([h.strip() for h in header])
    return frame, starts


def read_csv(data: bytes, *, name: str) -> Parsed:
    """Parse CSV bytes into text columns with the header as written and each row's line.

    Parameters
    ----------
    data
        The whole file.
    name
        File name, for messages.

    Returns
    -------
    Parsed
        Raw rows (every value a string, missing when empty), their line numbers and
        the problems of rows with a wrong number of fields.

    Raises
    ------
    ImportFileError
        The file has no header or cannot be parsed at all.
    """
    text, encoding = decode(data)
    newline = text.find("\n")
    first_line = text[:newline] if newline >= 0 else text
    hint = _SEP_HINT.match(first_line)
    if hint:  # Excel's "sep=;" line: it names the delimiter and is not the header
        delimiter, text, offset = hint.group(1), text[newline + 1 :], 1
    else:
        delimiter, offset = sniff_delimiter(first_line), 0
    details = {"format": "csv", "encoding": encoding, "delimiter": delimiter}
    fast = _fast(text, delimiter) if text and not text.isspace() else None
    if fast is not None:
        raw, lines = fast
        empty = raw.isna().all(axis=1).to_numpy()
        return Parsed(
            raw=raw[~empty].reset_index(drop=True), lines=lines[~empty] + offset, details=details
        )
    rows, starts = _records(text, delimiter)
    starts = [n + offset for n in starts]
    if not rows:
        msg = f"{name!r} is empty: expected a header line and data rows"
        raise ImportFileError(msg)
    header = [h.strip() for h in rows[0]]
    width = len(header)
    problems = [
        RowProblem(
            line,
            "(row)",
            f"{len(row)} fields",
            f"{width} fields separated by {delimiter!r}, like the header",
        )
        for row, line in zip(rows[1:], starts[1:], strict=True)
        if len(row) != width
    ]
    body = [row[:width] + [""] * (width - len(row)) for row in rows[1:]]
    raw = pd.DataFrame(body, columns=_unique(header), dtype=object)
    raw = raw.mask(raw == "")
    return Parsed(
        raw=raw, lines=np.asarray(starts[1:], dtype=int), problems=problems, details=details
    )


def _unique(header: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for h in header:
        seen[h] = seen.get(h, 0) + 1
        out.append(h if seen[h] == 1 else f"{h} ({seen[h]})")
    return out
