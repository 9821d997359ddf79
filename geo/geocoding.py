"""Place addresses: offline through the commune base, online through an address geocoder.

Offline (always available): a postcode and/or a commune name → the commune (tolerant
of case, accents, hyphens, "Saint/St" and typos, as :func:`geo.communes.find`) → its
town hall point, ``location_precision="townhall"``. Work is done once per distinct
(postcode, name) pair, so a 100,000-row file with a few hundred communes costs a few
hundred look-ups.

Online (optional): :class:`AddressGeocoder` posts the addresses as one CSV to the
CSV endpoint of the French national address base's geocoding API (``/search/csv/``)
and reads back ``latitude, longitude, result_score, result_citycode, result_label``.
The endpoint is a setting, never built in: the environment variable
``ANCRAGE_GEOCODER_URL`` (see :func:`geocoder_from_env`); unset means offline only.
"""

from __future__ import annotations

import dataclasses
import functools
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd
import requests
from scipy.spatial import cKDTree

from geo import communes
from geo._config import get_settings
from geo._errors import GeocoderError, GeoError, InvalidParameterError
from geo._text import normalise_place

GEOCODER_URL_ENV = "ANCRAGE_GEOCODER_URL"
#: Minimum similarity (0-100) for a commune name to be accepted.
MIN_NAME_SCORE = 80.0
_POSTCODE = re.compile(r"(?<!\d)(\d{5})(?!\d)")
_RESULT_COLUMNS = ("code", "lon", "lat", "problem")


_TABLE_COLUMNS = (
    "code",
    "name",
    "department_code",
    "population",
    "postcodes",
    "townhall_lon",
    "townhall_lat",
)


@functools.lru_cache(maxsize=2)
def _table(path: Path, mtime: float) -> pd.DataFrame:
    """The geocoding table derived from the base (once per version of the base)."""
    del mtime  # cache key only
    frame = communes.read_table("communes", columns=_TABLE_COLUMNS, data_dir=path.parent)
    frame = frame.astype({"code": object, "name": object, "postcodes": object})
    return frame.set_index("code", drop=False).rename_axis(None)


def commune_table(*, data_dir: Path | None = None) -> pd.DataFrame:
    """Communes with name, postcodes and town hall point, indexed by code (cached)."""
    path = communes.base_file("communes", data_dir)
    return _table(path, path.stat().st_mtime)


@functools.lru_cache(maxsize=2)
def _postcode_index(path: Path, mtime: float) -> dict[str, list[str]]:
    table = _table(path, mtime)
    pairs = table["postcodes"].fillna("").str.split().explode().dropna()
    pairs = pairs[pairs != ""]
    index: dict[str, list[str]] = {}
    for postcode, code in zip(pairs.to_numpy(), pairs.index, strict=True):
        index.setdefault(postcode, []).append(code)
    return index


def _postcodes(data_dir: Path | None) -> dict[str, list[str]]:
    path = communes.base_file("communes", data_dir)
    return _postcode_index(path, path.stat().st_mtime)


@functools.lru_cache(maxsize=2)
def _townhall_tree(path: Path, mtime: float) -> tuple[cKDTree, np.ndarray]:
    table = _table(path, mtime)
    points = np.column_stack(
        [table["townhall_lon"].to_numpy(dtype=float), table["townhall_lat"].to_numpy(dtype=float)]
    )
    return cKDTree(points), table["department_code"].to_numpy(dtype=object)


def nearby_departments(
    lon: np.ndarray, lat: np.ndarray, *, neighbours: int = 4, data_dir: Path | None = None
) -> list[str]:
    """Departments of the town halls nearest to the points (to load only those communes).

    A point belongs to the commune of one of its few nearest town halls, so loading
    the departments of its ``neighbours`` nearest town halls is enough to find it.
    """
    path = communes.base_file("communes", data_dir)
    tree, departments = _townhall_tree(path, path.stat().st_mtime)
    k = min(neighbours, len(departments))
    _, nearest = tree.query(np.column_stack([lon, lat]), k=k)
    return sorted(set(departments[np.asarray(nearest).ravel()]))


def townhall_points(codes: pd.Series, *, data_dir: Path | None = None) -> pd.DataFrame:
    """Town hall ``lon, lat`` of current INSEE codes (NaN where the code is unknown)."""
    table = commune_table(data_dir=data_dir)
    found = table.reindex(codes.to_numpy())
    return pd.DataFrame(
        {
            "lon": found["townhall_lon"].to_numpy(dtype=float),
            "lat": found["townhall_lat"].to_numpy(dtype=float),
        },
        index=codes.index,
    )


def split_location(text: str) -> tuple[str | None, str | None]:
    """Split free text such as ``"Place du Marché, 19300 Égletons"`` into (postcode, city).

    The city is the text after the postcode (up to the next comma), or the last
    comma-separated part when there is no postcode.

    Examples
    --------
    >>> split_location("Place du Marché, 19300 Égletons")
    ('19300', 'Égletons')
    >>> split_location("Salle des fêtes, Meymac")
    (None, 'Meymac')
    """
    match = _POSTCODE.search(text or "")
    if match:
        city = text[match.end() :].split(",", maxsplit=1)[0].strip(" -")
        return match.group(1), city or None
    parts = [p.strip() for p in (text or "").split(",") if p.strip()]
    return None, (parts[-1] if parts else None)


def locate_communes(
    postcodes: pd.Series,
    names: pd.Series,
    *,
    min_score: float = MIN_NAME_SCORE,
    data_dir: Path | None = None,
) -> pd.DataFrame:
    """Find the commune of each (postcode, commune name) pair and its town hall point.

    Parameters
    ----------
    postcodes, names
        Aligned series; either may be missing on a row. A postcode alone works when it
        serves one commune; a name alone when it is unambiguous in France.
    min_score
        Minimum name similarity (0-100) to accept a commune.

    Returns
    -------
    pandas.DataFrame
        Aligned with the input: ``code`` (current INSEE code or None), ``lon``,
        ``lat`` (town hall) and ``problem`` (None, or what was expected instead, in
        words, e.g. "a commune name too: postcode 19300 serves 3 communes (...)").

    Examples
    --------
    >>> found = locate_communes(pd.Series(["19300"]), pd.Series(["Egletons"]))  # doctest: +SKIP
    >>> found.loc[0, "code"]  # doctest: +SKIP
    '19073'
    """
    pairs = pd.DataFrame(
        {"postcode": _clean(postcodes), "name": _clean(names)}, index=postcodes.index
    )
    keys = pairs.drop_duplicates()
    solved = {
        (p, n): _locate_one(p, n, min_score, data_dir)
        for p, n in zip(keys["postcode"].tolist(), keys["name"].tolist(), strict=True)
    }
    codes = [
        solved[key] for key in zip(pairs["postcode"].tolist(), pairs["name"].tolist(), strict=True)
    ]
    out = pd.DataFrame(codes, columns=["code", "problem"], index=pairs.index, dtype=object)
    points = townhall_points(out["code"].fillna(""), data_dir=data_dir)
    return pd.concat([out["code"], points, out["problem"]], axis=1)[list(_RESULT_COLUMNS)]


def _clean(values: pd.Series) -> pd.Series:
    cleaned = [None if pd.isna(v) else (str(v).strip() or None) for v in values.tolist()]
    return pd.Series(cleaned, index=values.index, dtype=object)


def _locate_one(
    postcode: str | None, name: str | None, min_score: float, data_dir: Path | None
) -> tuple[str | None, str | None]:
    if postcode is None and name is None:
        return None, "a postcode and/or a commune name"
    if postcode is not None:
        return _by_postcode(postcode, name, min_score, data_dir)
    return _by_name(name or "", min_score, data_dir)


def _by_postcode(
    postcode: str, name: str | None, min_score: float, data_dir: Path | None
) -> tuple[str | None, str | None]:
    postcode = postcode.zfill(5) if postcode.isdigit() and len(postcode) == 4 else postcode
    codes = _postcodes(data_dir).get(postcode)
    if not codes:
        return None, "the postcode of a current commune (none has this one)"
    table = commune_table(data_dir=data_dir).loc[codes]
    if name is None:
        if len(codes) == 1:
            return codes[0], None
        listed = ", ".join(table["name"].head(6))
        return None, (
            f"a commune name too: postcode {postcode} serves {len(codes)} communes ({listed})"
        )
    code, score = _best(table, name)
    if score < min_score:
        closest = table.loc[code, "name"]
        return None, (
            f"a commune of postcode {postcode} with this name (closest: "
            f"{closest!r}, similarity {score:.0f}/100)"
        )
    return code, None


def _best(table: pd.DataFrame, name: str) -> tuple[str, float]:
    score = communes.name_similarity(
        normalise_place(name), [normalise_place(n) for n in table["name"]]
    )
    best = int(np.argmax(score))
    return str(table.index[best]), float(score[best])


def _by_name(name: str, min_score: float, data_dir: Path | None) -> tuple[str | None, str | None]:
    try:
        found = communes.find(name, limit=3, data_dir=data_dir)
    except GeoError as err:
        return None, str(err)
    top = found.iloc[0]
    if top["score"] < min_score:
        return None, (
            f"the name of a current commune (closest: {top['name']!r} "
            f"({top['department_code']}), similarity {top['score']:.0f}/100)"
        )
    ties = found[found["score"] == top["score"]]
    if len(ties) > 1:
        listed = ", ".join(
            f"{n} ({d})" for n, d in zip(ties["name"], ties["department_code"], strict=True)
        )
        return None, f"a postcode too: several communes have this name ({listed})"
    return str(top["code"]), None


# --- online adapter ----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class AddressGeocoder:
    """Client of a CSV address geocoder (the national address base's ``/search/csv/`` API).

    Parameters
    ----------
    url
        Full endpoint URL, e.g. ``http://127.0.0.1:8000/search/csv/``.
    min_score
        Results below this ``result_score`` (0-1) are treated as not found.
    timeout
        Seconds to wait for the answer of one batch.
    batch_size
        Addresses sent per request.
    """

    url: str
    min_score: float = 0.5
    timeout: float = 60.0
    batch_size: int = 5000

    def __post_init__(self) -> None:
        if not self.url.startswith(("http://", "https://")):
            msg = f"'url' should be an http(s) URL of the geocoder's CSV endpoint, got {self.url!r}"
            raise InvalidParameterError(msg)
        if not 0 <= self.min_score <= 1:
            msg = f"'min_score' should be between 0 and 1, got {self.min_score}"
            raise InvalidParameterError(msg)

    def geocode(self, addresses: pd.DataFrame) -> pd.DataFrame:
        """Geocode addresses.

        Parameters
        ----------
        addresses
            Columns ``address``, ``postcode``, ``city`` (any may be empty).

        Returns
        -------
        pandas.DataFrame
            Aligned with ``addresses``: ``lon, lat, score, code, label``; ``lon``/``lat``
            are NaN where nothing was found with at least ``min_score``, or only the
            commune (``result_type`` "municipality").

        Raises
        ------
        GeocoderError
            The service cannot be reached, answers with an error or unreadable CSV.
        """
        parts = [
            self._batch(addresses.iloc[i : i + self.batch_size])
            for i in range(0, len(addresses), self.batch_size)
        ]
        if not parts:
            return pd.DataFrame(columns=["lon", "lat", "score", "code", "label"])
        return pd.concat(parts)

    def _batch(self, batch: pd.DataFrame) -> pd.DataFrame:
        body = pd.DataFrame(
            {
                c: batch.get(c, pd.Series(index=batch.index, dtype=object))
                for c in ("address", "postcode", "city")
            }
        ).fillna("")
        payload = body.to_csv(index=False).encode("utf-8")
        form = [("columns", "address"), ("columns", "city"), ("postcode", "postcode")]
        try:
            response = requests.post(
                self.url,
                data=form,
                timeout=self.timeout,
                files={"data": ("addresses.csv", payload, "text/csv")},
            )
        except requests.RequestException as err:
            msg = f"geocoder at {self.url} could not be reached: {err}"
            raise GeocoderError(msg) from err
        if not response.ok:
            msg = (
                f"geocoder at {self.url} answered {response.status_code} "
                f"{response.reason}: {response.text[:200]}"
            )
            raise GeocoderError(msg)
        return self._read_answer(response.content, batch.index)

    def _read_answer(self, content: bytes, index: pd.Index) -> pd.DataFrame:
        try:
            answer = pd.read_csv(io.BytesIO(content), dtype=str, keep_default_na=False)
        except (ValueError, pd.errors.ParserError) as err:
            msg = f"geocoder at {self.url} sent unreadable CSV: {err}"
            raise GeocoderError(msg) from err
        needed = {"latitude", "longitude", "result_score"}
        if not needed <= set(answer.columns) or len(answer) != len(index):
            msg = (
                f"geocoder at {self.url} sent {len(answer)} rows with columns "
                f"{list(answer.columns)[:12]}; expected {len(index)} rows with {sorted(needed)}"
            )
            raise GeocoderError(msg)
        score = pd.to_numeric(answer["result_score"], errors="coerce")
        kind = answer.get("result_type", pd.Series([""] * len(answer)))
        # A "municipality" result only found the commune: the offline town hall is as good.
        good = ((score >= self.min_score) & (kind != "municipality")).to_numpy()
        lon = pd.to_numeric(answer["longitude"], errors="coerce").where(good)
        lat = pd.to_numeric(answer["latitude"], errors="coerce").where(good)
        return pd.DataFrame(
            {
                "lon": lon.to_numpy(),
                "lat": lat.to_numpy(),
                "score": score.to_numpy(),
                "code": answer.get("result_citycode", pd.Series([""] * len(answer))).to_numpy(),
                "label": answer.get("result_label", pd.Series([""] * len(answer))).to_numpy(),
            },
            index=index,
        )


def geocoder_from_env() -> AddressGeocoder | None:
    """The online geocoder configured by ``ANCRAGE_GEOCODER_URL``, or None (offline only)."""
    url = get_settings().geocoder_url
    return AddressGeocoder(url) if url else None
