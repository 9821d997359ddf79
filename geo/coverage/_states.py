"""Coverage state of each commune (covered, on paper only, uncovered), per expertise."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import sparse
from scipy.spatial import cKDTree

from geo._errors import InvalidParameterError
from geo._geodesy import chord_to_km, unit_vectors
from geo.coverage._perimeter import perimeter_membership
from geo.coverage._reach import _provider_points, _town_points, reach_mask
from geo.layers import LABELS_FR

__all__ = ["EXPERTISE", "STATES", "STATE_LABELS_FR", "commune_states"]

#: Expertise keys of the providers' vocabulary, in the order of the ``state_*`` columns.
EXPERTISE: tuple[str, ...] = tuple(LABELS_FR["expertise"])
#: The three coverage states.
STATES: tuple[str, ...] = ("covered", "paper_only", "uncovered")
#: French labels of the states (map legend, popups).
STATE_LABELS_FR: dict[str, str] = {
    "covered": "couvert",
    "paper_only": "couvert sur le papier seulement",
    "uncovered": "non couvert",
}


def _expertise_matrix(providers: pd.DataFrame) -> np.ndarray:
    """Boolean providers × :data:`EXPERTISE`."""
    text = providers["expertise"] if "expertise" in providers else pd.Series("", providers.index)
    keys = text.fillna("").astype(str).str.split(";")
    sets = [{k.strip() for k in row} for row in keys]
    return np.array([[k in s for k in EXPERTISE] for s in sets], dtype=bool).reshape(
        len(providers), len(EXPERTISE)
    )


def _states(covered: np.ndarray, paper: np.ndarray) -> pd.Categorical:
    codes = np.where(covered, 0, np.where(paper, 1, 2))
    return pd.Categorical.from_codes(codes, categories=list(STATES))


def _joined_bits(matrix: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """``;``-join the labels of the True entries of each row of a narrow boolean matrix.

    One join per distinct row: rows are keyed by the integer their bits spell.
    """
    weights = np.left_shift(1, np.arange(matrix.shape[1], dtype=np.int64))
    keys = matrix.astype(np.int64) @ weights
    unique, inverse = np.unique(keys, return_inverse=True)
    texts = np.array(
        [";".join(labels[(key & weights) > 0]) for key in unique] or [""], dtype=object
    )
    return texts[inverse.ravel()] if len(unique) else np.full(len(matrix), "", dtype=object)


def _joined_sparse(matrix: sparse.csr_matrix, labels: np.ndarray) -> np.ndarray:
    """``;``-join the labels of the stored entries of each row of a CSR matrix.

    One join per distinct row: rows are keyed by two sums of random weights of
    their columns (equal sets give equal keys; distinct sets practically never).
    """
    matrix = matrix.tocsr().astype(np.float64)
    matrix.sort_indices()
    weights = np.random.default_rng(0).random((matrix.shape[1], 2))
    keys = np.asarray(matrix @ weights)
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    ptr, names = matrix.indptr, labels[matrix.indices]
    texts = np.array([";".join(names[ptr[i] : ptr[i + 1]]) for i in first] or [""], dtype=object)
    return texts[inverse.ravel()] if len(first) else np.full(matrix.shape[0], "", dtype=object)


def _nearest(
    communes: pd.DataFrame, providers: pd.DataFrame, offers: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Id and great-circle km of the nearest provider among ``offers`` (boolean)."""
    home = _provider_points(providers)
    usable = offers & np.isfinite(home).all(axis=1)
    ids = np.full(len(communes), None, dtype=object)
    km = np.full(len(communes), np.nan)
    town = _town_points(communes)
    known = np.isfinite(town).all(axis=1)
    if not usable.any() or not known.any():
        return ids, km
    which = np.flatnonzero(usable)
    chord, idx = cKDTree(unit_vectors(home[which])).query(unit_vectors(town[known]), k=1)
    ids[known] = providers["id"].astype(str).to_numpy(dtype=object)[which[idx]]
    km[known] = chord_to_km(chord)
    return ids, km


# ------------------------------------------------------------------------ per commune


def _check_expertise(expertise: str | None) -> None:
    if expertise is not None and expertise not in EXPERTISE:
        msg = f"'expertise' is {expertise!r}, expected one of {', '.join(EXPERTISE)}"
        raise InvalidParameterError(msg)


def commune_states(
    communes: pd.DataFrame,
    providers: gpd.GeoDataFrame,
    *,
    expertise: str | None = None,
    graph: Any = None,
    former: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Coverage state of each commune, per expertise and for any expertise.

    Parameters
    ----------
    communes
        Communes indexed by INSEE code with ``epci_code``, ``department_code``,
        ``region_code``, ``townhall_lon`` and ``townhall_lat``.
    providers
        Provider records (``id``, ``name``, ``expertise``, ``perimeter``,
        ``reach_km``, ``reach_minutes``, point geometry).
    expertise
        Expertise key the ``state`` column is for (default: any expertise).
    graph
        Road graph for providers with ``reach_minutes``.
    former
        Former commune codes, as for :func:`perimeter_membership`.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``communes``: ``state``, ``state_any``, ``providers`` (ids of
        the covering providers, ``;``-joined), ``provider_names``,
        ``expertise_available``, ``expertise_missing`` (``;``-joined keys; the
        catch-all ``other`` is never listed as missing), ``nearest_provider``,
        ``nearest_provider_km`` (great-circle, town hall to home base, among the
        providers offering ``expertise`` when given) and ``state_<key>`` for each
        key of :data:`EXPERTISE`.

    Raises
    ------
    InvalidParameterError
        ``expertise`` is not a key of the vocabulary.
    """
    _check_expertise(expertise)
    providers = providers.reset_index(drop=True)
    member = perimeter_membership(communes, providers, former=former)
    reach = reach_mask(communes, providers, member, graph=graph)
    offers = _expertise_matrix(providers)
    paper_k = (member.T.astype(np.int32) @ offers.astype(np.int32)) > 0
    cover_k = (reach.T.astype(np.int32) @ offers.astype(np.int32)) > 0
    paper_any = np.asarray(member.sum(axis=0)).ravel() > 0
    cover_any = np.asarray(reach.sum(axis=0)).ravel() > 0
    out = pd.DataFrame(index=communes.index)
    out["state_any"] = _states(cover_any, paper_any)
    out["state"] = (
        out["state_any"]
        if expertise is None
        else _states(cover_k[:, EXPERTISE.index(expertise)], paper_k[:, EXPERTISE.index(expertise)])
    )
    covering = reach.T.tocsr()
    out["providers"] = _joined_sparse(covering, providers["id"].astype(str).to_numpy(object))
    out["provider_names"] = _joined_sparse(covering, providers["name"].astype(str).to_numpy(object))
    keys = np.array(EXPERTISE, dtype=object)
    out["expertise_available"] = _joined_bits(cover_k, keys)
    out["expertise_missing"] = _joined_bits(~cover_k & (keys != "other"), keys)
    offering = offers.any(axis=1) if expertise is None else offers[:, EXPERTISE.index(expertise)]
    # numpy's stubs type any(axis=1) as possibly a scalar; on a 2-D array it is an array
    out["nearest_provider"], out["nearest_provider_km"] = _nearest(communes, providers, offering)  # type: ignore[arg-type]
    for n, key in enumerate(EXPERTISE):
        out[f"state_{key}"] = _states(cover_k[:, n], paper_k[:, n])
    out = out[["state", "state_any", *out.columns.drop(["state", "state_any"])]]
    out.attrs["expertise"] = expertise
    return out
