"""Tests of geo.scoring: percentiles, scores, contributions, rank stability, EPCI level."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from geo import scoring
from geo._errors import InvalidParameterError, UnknownIndicatorError


@dataclass(frozen=True)
class Spec:
    """Indicator metadata as test data (the fields scoring reads)."""

    key: str
    column: str
    direction: str
    label: str
    unit: str = ""


SPECS = {
    "x": Spec("x", "x_km", "higher_better", "Distance", "km"),
    "y": Spec("y", "y_index", "lower_better", "Indice", "index 0-1"),
}


@pytest.fixture
def values() -> pd.DataFrame:
    """Four communes, two indicators; percentiles computed by hand in the tests."""
    return pd.DataFrame({"x_km": [10.0, 40.0, 20.0, 30.0], "y_index": [5.0, 5.0, 1.0, 3.0]},
                        index=["a", "b", "c", "d"])


# x (higher better): a 0, b 1, c 1/3, d 2/3.
# y (lower better, a and b tied on ranks 1 and 2 from the worst): a 1/6, b 1/6, c 1, d 2/3.
PCT_X = {"a": 0.0, "b": 1.0, "c": 1 / 3, "d": 2 / 3}
PCT_Y = {"a": 1 / 6, "b": 1 / 6, "c": 1.0, "d": 2 / 3}


def test_percentiles_by_hand(values):
    pct = scoring.percentiles(values, SPECS)
    assert pct["x"].to_dict() == pytest.approx(PCT_X)
    assert pct["y"].to_dict() == pytest.approx(PCT_Y)


def test_direction_flips_percentiles(values):
    flipped = {k: Spec(s.key, s.column, "lower_better" if s.direction == "higher_better"
                       else "higher_better", s.label) for k, s in SPECS.items()}
    pct = scoring.percentiles(values, SPECS)
    assert (1 - scoring.percentiles(values, flipped)).to_numpy() == pytest.approx(pct.to_numpy())


def test_constant_indicator_gives_half(values):
    frame = values.assign(x_km=7.0)
    assert scoring.percentiles(frame, SPECS)["x"].tolist() == [0.5] * 4


def test_score_rank_and_contributions_by_hand(values):
    table = scoring.score_values(values, SPECS, weights={"x": 2, "y": 1})
    expected = {"a": 1 / 18, "b": 13 / 18, "c": 5 / 9, "d": 2 / 3}
    assert table["score"].to_dict() == pytest.approx(expected)
    assert list(table.index) == ["b", "d", "c", "a"]
    assert table["rank"].tolist() == [1, 2, 3, 4]
    assert table.loc["b", "contrib_x"] == pytest.approx(2 / 3)
    assert table.loc["b", "contrib_y"] == pytest.approx(1 / 18)
    sums = table["contrib_x"] + table["contrib_y"]
    assert sums.to_numpy() == pytest.approx(table["score"].to_numpy())
    assert table.loc["c", "x_km"] == 20.0
    assert table["coverage"].tolist() == [1.0] * 4
    assert table.attrs["missing"] == {"x": 0, "y": 0}


def test_missing_value_renormalises_weights(values):
    values.loc["d", "y_index"] = np.nan
    table = scoring.score_values(values, SPECS, weights={"x": 2, "y": 1})
    # y among a, b, c only: 5, 5, 1 -> 0.25, 0.25, 1
    assert table.loc["a", "pct_y"] == pytest.approx(0.25)
    assert np.isnan(table.loc["d", "pct_y"])
    assert table.loc["d", "score"] == pytest.approx(2 / 3)  # x alone
    assert table.loc["d", "contrib_y"] == 0.0
    assert table.loc["d", "coverage"] == pytest.approx(2 / 3)
    assert table.loc["c", "score"] == pytest.approx((2 / 3 + 1) / 3)
    assert table.attrs["missing"] == {"x": 0, "y": 1}


def test_commune_without_any_indicator_has_no_score(values):
    values.loc["a", :] = np.nan
    table = scoring.score_values(values, SPECS, weights={"x": 1, "y": 1})
    assert np.isnan(table.loc["a", "score"])
    assert pd.isna(table.loc["a", "rank"])
    assert table.index[-1] == "a"
    assert table.loc["a", "rank_stability"] == 0.0
    assert table.loc["a", "reasons"].startswith("Aucun atout")


def test_zero_weight_ignores_indicator(values):
    table = scoring.score_values(values, SPECS, weights={"x": 1, "y": 0})
    assert table["score"].to_dict() == pytest.approx(PCT_X)


def test_candidates_keep_area_percentiles(values):
    mask = pd.Series([True, False, True, True], index=values.index)
    table = scoring.score_values(values, SPECS, weights={"x": 2, "y": 1}, candidates=mask)
    assert "b" not in table.index
    assert table.loc["d", "score"] == pytest.approx(2 / 3)  # same as without the filter
    assert table["rank"].tolist() == [1, 2, 3]


def test_reasons_name_top_contributions_with_units(values):
    table = scoring.score_values(values, SPECS, weights={"x": 2, "y": 1})
    assert table.loc["b", "reasons"] == (
        "Atouts : Distance 40 km (centile 100) ; Indice 5,0 (centile 17)")
    assert table.loc["a", "reasons"] == "Atouts : Indice 5,0 (centile 17)"


def test_format_values_french():
    assert scoring.format_values(pd.Series([1.25, 3.0]), "min").tolist() == ["1,2 min", "3,0 min"]
    assert scoring.format_values(pd.Series([1234.4]), "hab.").tolist() == ["1234 hab."]


# --- rank stability ---------------------------------------------------------------------------

def _loop_stability(pct, weights, *, top, draws, seed, spread=0.25):
    """Slow reference: one combine() per draw (test only)."""
    factors = np.random.default_rng(seed).uniform(1 - spread, 1 + spread, (draws, len(weights)))
    hits = pd.Series(0.0, index=pct.index)
    for row in factors:
        drawn = {k: w * f for (k, w), f in zip(weights.items(), row, strict=True)}
        hits += (scoring.combine(pct, drawn)["rank"] <= top).astype(float)
    return hits / draws


@pytest.fixture
def many() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    return pd.DataFrame({"x_km": rng.random(60), "y_index": rng.random(60)},
                        index=[f"c{i:02d}" for i in range(60)])


def test_rank_stability_deterministic_and_matches_loop(many):
    pct = scoring.percentiles(many, SPECS)
    weights = {"x": 1.0, "y": 1.0}
    first = scoring.rank_stability(pct, weights, top=10, draws=50, seed=3)
    again = scoring.rank_stability(pct, weights, top=10, draws=50, seed=3)
    pd.testing.assert_series_equal(first, again)
    assert first.to_numpy() == pytest.approx(
        _loop_stability(pct, weights, top=10, draws=50, seed=3).to_numpy())
    assert first.sum() == pytest.approx(10)  # no ties: each draw keeps exactly 10 communes
    other = scoring.rank_stability(pct, weights, top=10, draws=50, seed=4)
    assert other.sum() == pytest.approx(10)


def test_far_ahead_commune_always_in_top(many):
    many.loc["c00"] = [1e6, -1e6]
    table = scoring.score_values(many, SPECS, weights={"x": 1, "y": 1}, stability_top=1)
    assert table.loc["c00", "rank"] == 1
    assert table.loc["c00", "rank_stability"] == 1.0
    assert table["rank_stability"].drop("c00").max() == 0.0


def test_balanced_pair_splits_top_place():
    frame = pd.DataFrame({"x_km": [1.0, 0.0], "y_index": [1.0, 0.0]}, index=["p", "q"])
    pct = scoring.percentiles(frame, SPECS)  # p best on x, q best on y
    shares = scoring.rank_stability(pct, {"x": 1, "y": 1}, top=1, draws=200, seed=0)
    assert shares.sum() == pytest.approx(1.0)
    assert 0.3 < shares["p"] < 0.7


def test_top_larger_than_area_keeps_everyone(values):
    pct = scoring.percentiles(values, SPECS)
    assert scoring.rank_stability(pct, {"x": 1}, top=10).tolist() == [1.0] * 4


# --- errors -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("weights", "needle"), [
    ({"x": -1}, "'x' is -1"),
    ({"x": "abc"}, "'x' is 'abc'"),
    ({"x": float("nan")}, "'x' is nan"),
    ({"x": 0, "y": 0}, "every weight is zero"),
    ({}, "'weights' is empty"),
])
def test_bad_weights(values, weights, needle):
    with pytest.raises(InvalidParameterError, match="weights") as info:
        scoring.score_values(values, SPECS, weights=weights)
    assert needle in str(info.value)


def test_unknown_indicator_lists_known_keys(values):
    with pytest.raises(UnknownIndicatorError, match=r"'nope'.*known indicators: x, y"):
        scoring.score_values(values, SPECS, weights={"nope": 1})


@pytest.mark.parametrize("text", ["a=b=c", "cooperation", "=2", "cooperation=", ",,"])
def test_parse_weights_malformed(text):
    with pytest.raises(InvalidParameterError, match="'weights'"):
        scoring.parse_weights(text)


def test_parse_weights_duplicate_and_ok():
    assert scoring.parse_weights("a=2, b=1") == {"a": "2", "b": "1"}
    with pytest.raises(InvalidParameterError, match="'a' is given twice"):
        scoring.parse_weights("a=1,a=2")


def test_empty_area_and_filters_leaving_nothing(values):
    with pytest.raises(InvalidParameterError, match="no commune"):
        scoring.score_values(values.iloc[:0], SPECS, weights={"x": 1})
    nothing = pd.Series(False, index=values.index)
    with pytest.raises(InvalidParameterError, match="filters leave no commune out of 4"):
        scoring.score_values(values, SPECS, weights={"x": 1}, candidates=nothing)


def test_missing_value_column(values):
    with pytest.raises(InvalidParameterError, match="'x_km' of indicator 'x' is missing"):
        scoring.score_values(values.drop(columns="x_km"), SPECS, weights={"x": 1})


@pytest.mark.parametrize(("option", "value"), [("top", 0), ("draws", 0), ("spread", 1.5)])
def test_bad_stability_options(values, option, value):
    pct = scoring.percentiles(values, SPECS)
    with pytest.raises(InvalidParameterError, match=str(value)):
        scoring.rank_stability(pct, {"x": 1}, **{option: value})


# --- filters ------------------------------------------------------------------------------------

@pytest.fixture
def communes() -> pd.DataFrame:
    return pd.DataFrame({"population": pd.array([100, 2000, None, 800], dtype="Int64")},
                        index=["a", "b", "c", "d"])


def test_candidate_mask_population_rurality_exclude(communes):
    rurality = pd.Series([7, 5, 6, 2], index=communes.index)
    filters = scoring.ScoreFilters(min_population=500, max_population=5000)
    assert scoring.candidate_mask(communes, filters).tolist() == [False, True, False, True]
    filters = scoring.ScoreFilters(rurality=(5, 6, 7), exclude=("a",))
    mask = scoring.candidate_mask(communes, filters, rurality=rurality)
    assert mask.tolist() == [False, True, True, False]


def test_candidate_mask_errors(communes):
    with pytest.raises(InvalidParameterError, match=r"'min_population' \(900\) is above"):
        scoring.candidate_mask(communes, scoring.ScoreFilters(min_population=900,
                                                              max_population=100))
    with pytest.raises(InvalidParameterError, match="rurality"):
        scoring.candidate_mask(communes, scoring.ScoreFilters(rurality=(7,)))


# --- EPCI level ---------------------------------------------------------------------------------

def test_aggregate_epci_by_hand():
    rows = pd.DataFrame({
        "epci_code": ["e1", "e1", "e2", "e2", None],
        "epci_name": ["Un", "Un", "Deux", "Deux", None],
        "population": pd.array([100, 300, 50, 150, 10], dtype="Int64"),
        "score": [0.2, 0.6, 0.9, 0.5, 1.0],
        "x_km": [10.0, np.nan, 4.0, 8.0, 1.0],
    })
    out = scoring.aggregate_epci(rows, columns=["score", "x_km"]).set_index("epci_code")
    assert out.loc["e1", "score"] == pytest.approx((0.2 * 100 + 0.6 * 300) / 400)
    assert out.loc["e2", "score"] == pytest.approx((0.9 * 50 + 0.5 * 150) / 200)
    assert out.loc["e1", "x_km"] == pytest.approx(10.0)  # the missing value is left out
    assert out.loc["e2", "x_km"] == pytest.approx((4 * 50 + 8 * 150) / 200)
    assert out.loc["e1", "population"] == 400
    assert out.loc["e2", "communes"] == 2
    assert out["rank"].to_dict() == {"e2": 1, "e1": 2}
    assert len(out) == 2  # the commune without EPCI is left out


def test_aggregate_epci_needs_columns():
    with pytest.raises(InvalidParameterError, match="epci_code"):
        scoring.aggregate_epci(pd.DataFrame({"score": [1.0]}))
