"""Shipped reference tables (data/reference), festival seeding, shrinkage of small numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geo import _reference, indicators, scoring
from geo._shrinkage import beta_binomial, normal_normal
from geo.communes import load_communes
from geo.indicators._neo_rural import annual_growth
from geo.store import Store

SHIPPED = _reference.REFERENCE_DIR


def _shipped(name: str) -> pd.DataFrame:
    table = _reference.load_reference(name, SHIPPED)
    if table is None:
        pytest.skip(f"data/reference/{name}.parquet absent")
    return table


def test_shipped_tables_are_rederived_identically(reference_dir, base_dir, tmp_path):
    summary = _reference.derive_reference_tables(reference_dir, tmp_path)
    for name in ("density_grid", "aav2020", "festivals"):
        pd.testing.assert_frame_equal(
            pd.read_parquet(tmp_path / f"{name}.parquet"), _shipped(name), check_like=False
        )
    assert summary["density_grid"]["unknown_codes"] == []
    assert summary["density_grid"]["former_codes_mapped"] > 0  # 2024 communes merged since
    assert summary["festivals"]["festivals"] > 7000


def test_shipped_tables_are_small_and_cover_the_base(base_dir):
    total = sum(p.stat().st_size for p in SHIPPED.glob("*.parquet"))
    assert 0 < total < 2_000_000
    grid, aav = _shipped("density_grid"), _shipped("aav2020")
    codes = set(load_communes()["code"])
    assert len(codes - set(grid["code"])) < 10  # the grid covers nearly every commune
    assert set(grid["code"]) <= codes and set(aav["code"]) <= codes
    assert grid["density_class"].between(1, 7).all()
    centres = aav[aav["aav_category"] == 11]
    assert centres["aav_code"].is_unique  # one centre per attraction area
    brive = aav.set_index("code").loc["19031"]
    assert (brive["aav_name"], brive["aav_category"]) == ("Brive-la-Gaillarde", 11)


def test_festivals_become_events_at_the_town_hall(base_dir):
    festivals = _shipped("festivals").head(50)
    events = _reference.festival_events(festivals)
    assert len(events) == len(festivals)
    assert (events["kind"] == "festival").all()
    assert events["source_id"].str.startswith("culture_festivals_france.csv:FEST_").all()
    assert events["source"].str.contains("Licence Ouverte 2.0").all()
    assert not events["season"].str.contains(r"\(").any()  # the span, not the label


def test_seed_loads_the_festivals_once(base_dir, tmp_path):
    _shipped("festivals")
    store = Store(tmp_path / "store.gpkg")
    store.ensure()
    first = store.count("events")
    assert first > 7000  # curated events + the national festival list
    again = store.seed()
    assert again["festivals"].added == 0 and store.count("events") == first


def test_importing_the_festival_file_after_seeding_adds_almost_nothing(
    reference_dir, base_dir, tmp_path
):
    """Seeded festivals carry the id the importer gives a row of the Ministry's file."""
    from geo.imports import import_file  # noqa: PLC0415

    _shipped("festivals")
    store = Store(tmp_path / "store.gpkg")
    store.ensure()
    before = store.count("events")
    result = import_file(
        "events",
        reference_dir / "culture_festivals_france.csv",
        store=store,
        defaults={"kind": "festival"},
        skip_invalid=True,
        rejected_path=tmp_path / "rejected.csv",
    )
    assert result.duplicates > 7000  # recognised by their source_id
    assert result.added < 30  # festivals seeded once under one name in one commune
    assert store.count("events") == before + result.added


def test_importing_festivals_changes_no_default_rank(base_dir):
    """The festival list in the store (seeded, or imported as plain events) moves no rank."""
    festivals = _shipped("festivals")
    correze = load_communes(department="19")
    before = scoring.score(correze, indicator_options={"layers": {}})
    seeded = _reference.festival_events(festivals)
    imported = seeded.drop(columns="source_id")  # as if a user imported the CSV
    for events in (seeded, imported):
        after = scoring.score(correze, indicator_options={"layers": {"events": events}})
        assert after["rank"].tolist() == before["rank"].tolist()
        assert after["score"].tolist() == pytest.approx(before["score"].tolist())
    history = indicators.compute_indicators(
        correze, keys="programme_history", layers={"events": imported}
    )
    assert history["programme_history_index"].notna().sum() > 100  # it does show there


# ---------------------------------------------------------------- shrinkage


def test_beta_binomial_pulls_small_councils_more():
    k = pd.Series([1, 0, 2, 1, 3, 30, 50])
    n = pd.Series([7, 7, 7, 11, 11, 100, 100])
    shrunk, strength = beta_binomial(k, n, pd.Series(["g"] * 7))
    pooled = k.sum() / n.sum()
    raw = k / n
    assert (strength == strength.iloc[0]).all() and strength.iloc[0] >= 1
    assert ((shrunk - pooled).abs() <= (raw - pooled).abs() + 1e-12).all()
    pull = (shrunk - raw).abs() / (pooled - raw).abs()
    assert pull[0] > pull[5]  # 1 in 7 moves further towards the pool than 30 in 100
    m = strength.iloc[0]
    assert shrunk[0] == pytest.approx((1 + m * pooled) / (7 + m))


def test_normal_normal_moves_tiny_communes_not_large_ones(base_dir):
    france = load_communes()
    growth = annual_growth(france["population"], france["population_2019"])
    grid = _shipped("density_grid").set_index("code")["density_class"]
    shrunk, n0 = normal_normal(growth, france["population_2019"], grid.reindex(france.index))
    big = france["population_2019"] > 50_000
    assert (shrunk[big] - growth[big]).abs().max() < 0.1
    tiny = france["population_2019"].between(50, 150)
    assert (shrunk[tiny] - growth[tiny]).abs().median() > 0.3
    assert n0.dropna().between(1, 1e6).all()


def test_a_tiny_commune_gaining_4_is_not_in_the_top_decile(base_dir):
    """A commune of 100 inhabitants gaining 4 does not reach the top decile on that alone."""
    france = load_communes()
    rural = _shipped("density_grid").query("density_class >= 6")["code"]
    code = france.index[france.index.isin(rural) & (france["department_code"] == "19")][0]
    france.loc[code, ["population_2019", "population"]] = [100, 104]
    everyone = indicators.compute_indicators(france, keys="neo_rural", all_communes=france)
    row = everyone.loc[code]
    assert row["pop_growth_pct_year"] == pytest.approx((1.04**0.25 - 1) * 100, abs=1e-3)
    raw_part = np.clip(row["pop_growth_pct_year"] - row["dept_growth_pct_year"], -1, 1)
    top = everyone["migration_part"].quantile(0.9)
    assert raw_part > top  # unshrunk, 4 newcomers would put it in the top decile
    assert row["migration_part"] < top  # shrunk, they do not
    assert row["pop_growth_shrunk_pct_year"] < row["pop_growth_pct_year"]
    assert row["growth_prior_inhabitants"] > 100


def test_reference_folder_is_a_setting(monkeypatch, tmp_path):
    from geo._config import get_settings  # noqa: PLC0415
    from geo._errors import InvalidParameterError  # noqa: PLC0415

    monkeypatch.setenv("ANCRAGE_REFERENCE", str(tmp_path))
    assert get_settings().reference_dir == tmp_path
    assert _reference.reference_dir() == tmp_path
    assert _reference.load_reference("festivals") is None  # nothing shipped there
    monkeypatch.setenv("ANCRAGE_REFERENCE", " ")
    with pytest.raises(InvalidParameterError, match=r"reference_dir \(ANCRAGE_REFERENCE\)"):
        _reference.reference_dir()
