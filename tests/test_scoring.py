"""Tests of geo.scoring: percentiles, scores, contributions, rank stability, EPCI level."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

from geo import scoring
from geo._errors import InvalidParameterError, UnknownIndicatorError
from geo.communes import load_communes
from geo.indicators import compute_indicators


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
    return pd.DataFrame(
        {"x_km": [10.0, 40.0, 20.0, 30.0], "y_index": [5.0, 5.0, 1.0, 3.0]},
        index=["a", "b", "c", "d"],
    )


# x (higher better): a 0, b 1, c 1/3, d 2/3.
# y (lower better, a and b tied on ranks 1 and 2 from the worst): a 1/6, b 1/6, c 1, d 2/3.
PCT_X = {"a": 0.0, "b": 1.0, "c": 1 / 3, "d": 2 / 3}
PCT_Y = {"a": 1 / 6, "b": 1 / 6, "c": 1.0, "d": 2 / 3}


def test_percentiles_by_hand(values):
    pct = scoring.percentiles(values, SPECS)
    assert pct["x"].to_dict() == pytest.approx(PCT_X)
    assert pct["y"].to_dict() == pytest.approx(PCT_Y)


def test_direction_flips_percentiles(values):
    flipped = {
        k: Spec(
            s.key,
            s.column,
            "lower_better" if s.direction == "higher_better" else "higher_better",
            s.label,
        )
        for k, s in SPECS.items()
    }
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
    assert table.loc["b", "reasons"] == "Atouts : Distance 40 km (centile 100)"
    assert table.loc["d", "reasons"] == (
        "Atouts : Distance 30 km (centile 67) ; Indice 3,0 (centile 67)"
    )
    assert table.loc["c", "reasons"] == "Atouts : Indice 1,0 (centile 100)"
    assert table.loc["a", "reasons"].startswith("Aucun atout")


def test_format_values_french():
    assert scoring.format_values(pd.Series([1.25, 3.0]), "min").tolist() == ["1,2 min", "3,0 min"]
    assert scoring.format_values(pd.Series([1234.4]), "hab.").tolist() == ["1 234 hab."]


# --- rank stability ---------------------------------------------------------------------------


def _loop_stability(pct, weights, *, top, draws, seed, spread=0.25):
    """Slow reference: one combine() per draw (test only)."""
    factors = np.random.default_rng(seed).uniform(1 - spread, 1 + spread, (draws, len(weights)))
    hits = pd.Series(0.0, index=pct.index)
    for row in factors:
        drawn = {k: w * f for (k, w), f in zip(weights.items(), row, strict=True)}
        hits += (scoring.combine(pct, drawn)["rank"] <= top).fillna(False).astype(float)
    return hits / draws


@pytest.fixture
def many() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(
        {"x_km": rng.random(60), "y_index": rng.random(60)}, index=[f"c{i:02d}" for i in range(60)]
    )
    frame.iloc[5:9, 1] = np.nan  # renormalised weights for these
    frame.iloc[9, :] = np.nan  # no score at all
    return frame


def test_rank_stability_deterministic_and_matches_loop(many):
    pct = scoring.percentiles(many, SPECS)
    weights = {"x": 1.0, "y": 1.0}
    first = scoring.rank_stability(pct, weights, top=10, draws=50, seed=3)
    again = scoring.rank_stability(pct, weights, top=10, draws=50, seed=3)
    pd.testing.assert_series_equal(first, again)
    assert first.to_numpy() == pytest.approx(
        _loop_stability(pct, weights, top=10, draws=50, seed=3).to_numpy()
    )
    assert first.sum() == pytest.approx(10)  # no ties: each draw keeps exactly 10 communes
    assert first["c09"] == 0.0
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


@pytest.mark.parametrize(
    ("weights", "needle"),
    [
        ({"x": -1}, "x=-1, expected a finite number between 0 and 100"),
        ({"x": "abc"}, "x='abc'"),
        ({"x": float("nan")}, "x=nan"),
        ({"x": float("inf")}, "x=inf"),
        ({"x": 1e308, "y": 1e308}, "x=1e+308, expected a finite number between 0 and 100"),
        ({"x": 100.5}, "x=100.5"),
        ({"x": 0, "y": 0}, "every weight is zero"),
        ({}, "'weights' is empty"),
    ],
)
def test_bad_weights(values, weights, needle):
    with pytest.raises(InvalidParameterError, match="weights") as info:
        scoring.score_values(values, SPECS, weights=weights)
    assert needle in str(info.value)


def test_weights_at_the_limits_do_not_overflow(values):
    big = scoring.score_values(values, SPECS, weights={"x": 100, "y": 50})
    small = scoring.score_values(values, SPECS, weights={"x": 1e-9, "y": 5e-10})
    assert big["score"].notna().any()
    assert big["score"].to_numpy() == pytest.approx(small["score"].to_numpy(), nan_ok=True)
    assert big["rank"].tolist() == small["rank"].tolist()


def test_resolve_weights_changes_only_the_named_criteria(monkeypatch):
    defaults = dict(scoring.DEFAULT_WEIGHTS)
    assert scoring.resolve_weights() == {k: v for k, v in defaults.items() if v > 0}
    changed = scoring.resolve_weights({"cooperation": "2"})
    assert changed["cooperation"] == 2.0
    assert {k: v for k, v in changed.items() if k != "cooperation"} == {
        k: v for k, v in defaults.items() if k != "cooperation" and v > 0
    }
    assert scoring.resolve_weights({"cooperation": "0"}).get("cooperation") is None
    assert scoring.resolve_weights({"rurality": 3})["rurality"] == 3.0
    assert scoring.resolve_weights({"stability": 2}, only=["stability", "rurality"]) == {
        "stability": 2.0,
        "rurality": 1.0,
    }
    with pytest.raises(InvalidParameterError, match="'weights' names cooperation, which 'only'"):
        scoring.resolve_weights({"cooperation": 2}, only=["stability"])
    with pytest.raises(InvalidParameterError, match="every weight is zero"):
        scoring.resolve_weights({"stability": 0}, only=["stability"])
    # a criterion declared with default weight 0 is known but left out until weighted
    monkeypatch.setitem(scoring.DEFAULT_WEIGHTS, "extra", 0.0)
    assert "extra" not in scoring.resolve_weights()
    assert scoring.resolve_weights({"extra": 1})["extra"] == 1.0
    assert "extra" not in scoring.check_weights(None)


def test_exports_carry_the_weights(values):
    table = scoring.score_values(values, SPECS, weights={"x": 2, "y": 1})
    frame = pd.read_csv(io.StringIO(scoring.to_text(table, "csv")))
    assert frame["weight_x"].eq(2).all() and frame["weight_y"].eq(1).all()
    records = json.loads(scoring.to_text(table, "json"))
    assert {r["weight_x"] for r in records} == {2.0}
    points = gpd.GeoDataFrame(
        table, geometry=[Point(i, 45) for i in range(len(table))], crs="EPSG:4326"
    )
    points.attrs = table.attrs
    collection = json.loads(scoring.to_text(points, "geojson"))
    assert collection["type"] == "FeatureCollection"
    assert collection["weights"] == {"x": 2.0, "y": 1.0}
    assert collection["features"][0]["properties"]["weight_y"] == 1.0


def test_csv_cells_cannot_run_as_formulas(values):
    table = scoring.score_values(values, SPECS, weights={"x": 1})
    table["reasons"] = ['=HYPERLINK("http://x")', "@SUM(A1)", "-3.5", "+1+2", "\tx", "ok"][
        : len(table)
    ]
    frame = pd.read_csv(io.StringIO(scoring.to_text(table, "csv")), keep_default_na=False)
    cells = frame["reasons"].tolist()
    assert all(not c.startswith(("=", "@", "+", "\t")) for c in cells)
    assert "-3.5" in [str(c) for c in cells]  # a plain number stays a number


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
    return pd.DataFrame(
        {"population": pd.array([100, 2000, None, 800], dtype="Int64")}, index=["a", "b", "c", "d"]
    )


def test_candidate_mask_population_rurality_exclude(communes):
    rurality = pd.Series([7, 5, 6, 2], index=communes.index)
    filters = scoring.ScoreFilters(min_population=500, max_population=5000)
    assert scoring.candidate_mask(communes, filters).tolist() == [False, True, False, True]
    filters = scoring.ScoreFilters(rurality=(5, 6, 7), exclude=("a",))
    mask = scoring.candidate_mask(communes, filters, rurality=rurality)
    assert mask.tolist() == [False, True, True, False]


def test_candidate_mask_errors(communes):
    with pytest.raises(InvalidParameterError, match=r"'min_population' \(900\) is above"):
        scoring.candidate_mask(
            communes, scoring.ScoreFilters(min_population=900, max_population=100)
        )
    with pytest.raises(InvalidParameterError, match="rurality"):
        scoring.candidate_mask(communes, scoring.ScoreFilters(rurality=(7,)))


# --- EPCI level ---------------------------------------------------------------------------------


def test_aggregate_epci_by_hand():
    rows = pd.DataFrame(
        {
            "epci_code": ["e1", "e1", "e2", "e2", None],
            "epci_name": ["Un", "Un", "Deux", "Deux", None],
            "population": pd.array([100, 300, 50, 150, 10], dtype="Int64"),
            "score": [0.2, 0.6, 0.9, 0.5, 1.0],
            "x_km": [10.0, np.nan, 4.0, 8.0, 1.0],
        }
    )
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


# --- end to end on the real base (department 24) -------------------------------------------------


@pytest.fixture(scope="module")
def dordogne(base_dir):
    communes = load_communes(department="24", data_dir=base_dir)
    keys = [*scoring.DEFAULT_WEIGHTS, "rurality"]
    return communes, compute_indicators(communes, keys=keys, layers={})


def test_score_dordogne_end_to_end(dordogne):
    communes, indicators = dordogne
    table = scoring.score(communes, indicators=indicators, stability_top=10)
    assert len(table) == len(communes) == table["code"].nunique()
    assert table["rank"].iloc[0] == 1 and table["score"].is_monotonic_decreasing
    contributions = table.filter(like="contrib_").sum(axis=1)
    assert contributions.to_numpy() == pytest.approx(table["score"].to_numpy())
    assert {
        "hub_distance_km",
        "stability_index",
        "contrib_hub_distance",
        "reasons",
        "rank_stability",
        "geometry",
    } <= set(table.columns)
    mialet = table.loc["24269"]
    assert mialet["name"] == "Mialet"
    assert mialet["hub_distance_km"] == indicators.loc["24269", "hub_distance_km"]
    # hub distance is better when larger: Mialet's percentile from the raw column
    column = indicators["hub_distance_km"]
    below = (column < column["24269"]).sum() + ((column == column["24269"]).sum() - 1) / 2
    assert mialet["pct_hub_distance"] == pytest.approx(below / (column.notna().sum() - 1))
    assert table["rank_stability"].head(3).min() > table["rank_stability"].tail(100).max()
    missing = int(indicators["stability_index"].isna().sum())
    assert table.attrs["missing"]["stability"] == missing


def test_score_dordogne_filters(dordogne):
    communes, indicators = dordogne
    filters = scoring.ScoreFilters(
        min_population=300, max_population=2000, rurality=(6, 7), exclude=("24269", "24172")
    )
    table = scoring.score(
        communes, indicators=indicators, filters=filters, weights={"cooperation": 2, "neo_rural": 1}
    )
    assert not {"24269", "24172"} & set(table.index)
    assert table["population"].between(300, 2000).all()
    assert set(indicators.loc[table.index, "density_class"]) <= {6, 7}
    full = scoring.score(
        communes, indicators=indicators, weights={"cooperation": 2, "neo_rural": 1}
    )
    assert table["score"].to_numpy() == pytest.approx(full.loc[table.index, "score"].to_numpy())


def test_score_dordogne_errors(dordogne):
    communes, indicators = dordogne
    with pytest.raises(UnknownIndicatorError, match=r"known indicators: .*cooperation"):
        scoring.score(communes, indicators=indicators, weights={"cooperaton": 1})
    with pytest.raises(InvalidParameterError, match=r"\(min_population=10000000\) leave no"):
        scoring.score(
            communes, indicators=indicators, filters=scoring.ScoreFilters(min_population=10_000_000)
        )
    with pytest.raises(InvalidParameterError, match="'communes' is empty"):
        scoring.score(communes.iloc[:0], indicators=indicators)


def test_epci_level_dordogne(dordogne):
    communes, indicators = dordogne
    table = scoring.score(communes, indicators=indicators)
    epci = scoring.aggregate_epci(table).set_index("epci_code")
    assert epci["communes"].sum() == table["epci_code"].notna().sum()
    code = table.loc["24269", "epci_code"]
    members = table[table["epci_code"] == code]
    weights = members["population"].astype(float)
    assert epci.loc[code, "score"] == pytest.approx(
        (members["score"] * weights).sum() / weights.sum()
    )
    assert epci.loc[code, "population"] == members["population"].sum()
    assert "hub_distance_km" in epci.columns


# --- command line -------------------------------------------------------------------------------

MIALET_EPCI = "242400752"  # CC Périgord-Limousin, a small area keeps these tests fast


def test_cli_score_csv(cli):
    result = cli(
        "score",
        "--epci",
        MIALET_EPCI,
        "--top",
        5,
        "--format",
        "csv",
        "--weights",
        "cooperation=2,neo_rural=1,stability=1,hub_distance=1",
    )
    assert result.exit_code == 0, result.output
    table = pd.read_csv(io.StringIO(result.stdout), dtype={"code": str})
    assert len(table) == 5
    assert table["rank"].tolist() == sorted(table["rank"])
    assert {
        "code",
        "name",
        "score",
        "rank",
        "hub_distance_km",
        "contrib_cooperation",
        "rank_stability",
        "reasons",
    } <= set(table.columns)
    assert table.filter(like="contrib_").sum(axis=1).to_numpy() == pytest.approx(
        table["score"].to_numpy(), abs=1e-5
    )


def test_cli_score_hub_population(cli):
    default = cli("score", "--codes", "24269,24095", "-n", 0, "-f", "json")
    closer = cli(
        "score", "--codes", "24269,24095", "-n", 0, "-f", "json", "--hub-population", 10_000
    )
    assert default.exit_code == 0 and closer.exit_code == 0, closer.output
    far = {r["code"]: r["hub_distance_km"] for r in json.loads(default.stdout)}
    near = {r["code"]: r["hub_distance_km"] for r in json.loads(closer.stdout)}
    assert set(far) == set(near) == {"24269", "24095"}
    assert all(near[c] < far[c] for c in far)  # towns of 10,000+ now count as hubs


def test_cli_score_hub_rules(cli):
    """Default hubs are INSEE's attraction-area centres: Brive counts for Beaulieu."""
    args = ("score", "--codes", "19019", "-n", 0, "-f", "json")
    default = cli(*args)
    commune = cli(*args, "--hubs", "commune:50000")
    bad = cli(*args, "--hubs", "aav:0")
    assert default.exit_code == 0 and commune.exit_code == 0, commune.output
    by_aav = json.loads(default.stdout)[0]["hub_distance_km"]
    by_commune = json.loads(commune.stdout)[0]["hub_distance_km"]
    assert by_aav < 40 < by_commune  # Brive-la-Gaillarde (19031) vs a town of 50,000+
    assert bad.exit_code == 2 and "population threshold" in bad.output


def test_cli_score_geojson_file_and_exclude(cli, tmp_path):
    path = tmp_path / "shortlist.geojson"
    result = cli(
        "score",
        "--epci",
        MIALET_EPCI,
        "-n",
        0,
        "-f",
        "geojson",
        "-o",
        path,
        "--exclude",
        "24269",
        "--rurality",
        "5,6,7",
        "--stability-top",
        3,
    )
    assert result.exit_code == 0, result.output
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["type"] == "FeatureCollection" and data["features"]
    codes = {f["properties"]["code"] for f in data["features"]}
    assert "24269" not in codes
    first = data["features"][0]
    assert first["geometry"]["type"] in {"Polygon", "MultiPolygon"}
    assert first["properties"]["rank"] == 1
    assert not list(tmp_path.glob(".*.tmp"))


def test_cli_score_table_and_epci_level(cli):
    two = f"{MIALET_EPCI},200041168"
    result = cli("score", "--epci", two, "-n", 3, "--level", "epci", "-f", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["rank"] for r in rows] == [1, 2]
    assert {"epci_code", "epci_name", "population", "communes", "score"} <= set(rows[0])
    outlines = cli("score", "--epci", two, "-n", 2, "--level", "epci", "-f", "geojson")
    assert outlines.exit_code == 0, outlines.output
    features = json.loads(outlines.stdout)["features"]
    assert [f["properties"]["epci_code"] for f in features] == [r["epci_code"] for r in rows[:2]]
    assert features[0]["geometry"]["type"] in {"Polygon", "MultiPolygon"}
    table = cli("score", "--epci", MIALET_EPCI, "-n", 2)
    assert table.exit_code == 0, table.output
    assert "1. " in table.stdout and "Atouts" in table.stdout


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["--weights", "cooperation=-1"], 2, "cooperation='-1', expected a finite number"),
        (["--weights", "cooperation=1e308,neo_rural=1e308"], 2, "cooperation='1e308'"),
        (["--weights", "cooperation=abc"], 2, "'abc'"),
        (["--weights", "a=b=c"], 2, "'a=b=c'"),
        (["--weights", "nope=1"], 2, "known indicators"),
        (["--only", "nope"], 2, "Invalid value for --only"),
        (["--only", "stability", "--weights", "cooperation=2"], 2, "which 'only'"),
        (["--top", "-1"], 2, "'--top'"),
        (["--stability-top", "0"], 2, "'--stability-top'"),
        (["--min-population", 10_000_000], 2, "(min_population=10000000) leave no commune"),
        (["--rurality", "1", "--exclude", "24269"], 2, "rurality=1, exclude=24269) leave no"),
        (["--rurality", "9"], 2, "'rurality'"),
    ],
)
def test_cli_score_errors(cli, args, code, needle):
    result = cli("score", "--epci", MIALET_EPCI, *args)
    assert result.exit_code == code, result.output
    assert needle in " ".join(result.output.replace("│", " ").split())
    assert "Traceback" not in result.output


def test_cli_score_weights_change_one_criterion_and_are_printed(cli, tmp_path):
    weighted = ["--weights", "cooperation=2"]
    result = cli("score", "--epci", MIALET_EPCI, "-n", 0, "-f", "json", *weighted)
    assert result.exit_code == 0, result.output
    assert "weights: cooperation=2, neo_rural=1, stability=1, hub_distance=1" in result.stderr
    rows = json.loads(result.stdout)
    assert {r["weight_cooperation"] for r in rows} == {2.0}
    assert {r["weight_stability"] for r in rows} == {1.0}  # the others keep their default
    assert all(r["contrib_stability"] is not None for r in rows)
    only = cli("score", "--epci", MIALET_EPCI, "-n", 3, "--only", "stability,rurality")
    assert only.exit_code == 0, only.output
    assert "weights: stability=1, rurality=1" in only.stderr
    path = tmp_path / "s.csv"
    written = cli("score", "--epci", MIALET_EPCI, "-n", 2, "-f", "csv", "-o", path)
    assert written.exit_code == 0, written.output
    assert pd.read_csv(path)["weight_hub_distance"].tolist() == [1.0, 1.0]
    dash = cli("score", "--epci", MIALET_EPCI, "-n", 2, "-f", "csv", "-o", "-")
    assert dash.exit_code == 0 and dash.stdout.startswith("code,name,score")
    assert not (tmp_path / "-").exists()
    folder = cli("score", "--epci", MIALET_EPCI, "-f", "csv", "-o", tmp_path)
    assert folder.exit_code == 2
    assert "is a folder, expected a file" in " ".join(folder.output.replace("│", " ").split())


def test_cli_score_unknown_area(cli):
    result = cli("score", "--department", "99")
    assert result.exit_code == 1
    assert "'department'" in result.output and "99" in result.output
