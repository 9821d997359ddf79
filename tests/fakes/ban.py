"""A fake CSV geocoder answering each posted address from recorded result rows.

It reads the multipart form like the national address base's ``/search/csv/`` does
(``data`` file, ``columns``, ``postcode``) and returns the input columns followed by
the ``latitude, longitude, result_*`` columns of that API.
"""

from __future__ import annotations

import csv
import io
from email.parser import BytesParser
from email.policy import HTTP
from pathlib import Path

from fakes.server import Handler

RESULT_COLUMNS = (
    "latitude",
    "longitude",
    "result_label",
    "result_score",
    "result_type",
    "result_postcode",
    "result_city",
    "result_citycode",
)


def recorded_answers(path: Path) -> dict[str, dict[str, str]]:
    """Result rows of a recorded answer, keyed by their ``address`` column."""
    with path.open(encoding="utf-8", newline="") as handle:
        return {row["address"]: row for row in csv.DictReader(handle)}


def _form(headers: dict[str, str], body: bytes) -> dict[str, list[bytes]]:
    head = f"Content-Type: {headers['Content-Type']}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + body)
    form: dict[str, list[bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        form.setdefault(name, []).append(part.get_payload(decode=True))
    return form


def csv_geocoder(answers: dict[str, dict[str, str]]) -> Handler:
    """A route answering each posted address with its recorded row (empty when unknown)."""

    def answer(
        method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, str, bytes]:
        del method, path
        form = _form(headers, body)
        if "data" not in form:
            return 400, "application/json", b'{"code": 400, "message": "no CSV in data field"}'
        rows = list(csv.DictReader(io.StringIO(form["data"][0].decode("utf-8"))))
        out = io.StringIO()
        fields = [*(rows[0].keys() if rows else ["address"]), *RESULT_COLUMNS]
        writer = csv.DictWriter(out, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            found = answers.get(row.get("address", ""), {})
            writer.writerow({**row, **{c: found.get(c, "") for c in RESULT_COLUMNS}})
        return 200, "text/csv; charset=utf-8", out.getvalue().encode("utf-8")

    return answer
