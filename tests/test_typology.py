"""Tests of geo.typology: standardisation, KMeans types and their labels, nearest communes."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from geo import similarity, typology
from geo._errors import CommuneNotFoundError, InvalidParameterError
from geo.communes import load_communes
from geo.indicators import compute_indicators, get_indicator


@dataclass(frozen=True)
class Spec:
    """Indicator metadata as test data (the fields typology reads)."""

    key: str
    column: str
    label: str
    direction: str = "higher_better"
    unit: str = ""


SPECS = {
    "hub_distance": Spec("hub_distance", "hub_distance_km", "Distance au pôle"),
    "stability": Spec("stability", "stability_index", "Stabilité du conseil"),
}


@pytest.fixture
def three_groups() -> pd.DataFrame:
    """30 communes in three tight groups: near/unstable, far/unstable, near/stable."""
    rng = np.random.default_rng(1)
    centres = [(5.0, 0.2), (60.0, 0.2), (5.0, 0.9)]
    rows = [
        (cx + rng.normal(0, 1), cy + rng.normal(0, 0.02)) for cx, cy in centres for _ in range(10)
    ]
    frame = pd.DataFrame(
        rows, columns=["hub_distance_km", "stability_index"], index=[f"{i:05d}" for i in range(30)]
    )
    return frame


def test_standardise_imputes_median_and_drops_empty():
    frame = pd.DataFrame(
        {"hub_distance_km": [1.0, 3.0, np.nan, 5.0], "stability_index": [np.nan] * 4},
        index=list("abcd"),
    )
    z, dropped = typology.standardise(frame, SPECS)
    assert dropped == ["stability"]
    filled = np.array([1.0, 3.0, 3.0, 5.0])
    expected = (filled - filled.mean()) / filled.std()
    assert z["hub_distance"].to_numpy() == pytest.approx(expected)


def test_typology_finds_obvious_groups(three_groups):
    result = typology.typology(three_groups, SPECS, k_range=(2, 5))
    assert result.k == 3
    assert set(result.silhouettes) == {2, 3, 4, 5}
    clusters = result.assignments["cluster"]
    for start in (0, 10, 20):
        assert clusters.iloc[start : start + 10].nunique() == 1
    assert clusters.nunique() == 3
    labels = result.clusters.set_index("cluster")["label"]
    assert labels.is_unique
    far = clusters.iloc[10]
    assert labels[far].startswith("éloignée des pôles")
    stable = clusters.iloc[20]
    assert "stable" in labels[stable].split(", ")
    assert result.clusters["communes"].tolist() == [10, 10, 10]


def test_typology_same_input_same_labels_and_permutation(three_groups):
    first = typology.typology(three_groups, SPECS, k=3)
    again = typology.typology(three_groups, SPECS, k=3)
    pd.testing.assert_frame_equal(first.assignments, again.assignments)
    shuffled = three_groups.sample(frac=1.0, random_state=5)
    permuted = typology.typology(shuffled, SPECS, k=3)
    assert list(permuted.assignments.index) == list(shuffled.index)  # input order kept
    pd.testing.assert_frame_equal(permuted.assignments.loc[three_groups.index], first.assignments)


def test_cluster_labels_vocabulary_threshold_and_uniqueness():
    specs = {
        **SPECS,
        "neo_rural": Spec("neo_rural", "neo", "Néo-ruraux"),
        "custom": Spec("custom", "c", "Associations"),
    }
    centroids = pd.DataFrame(
        {
            "hub_distance": [1.2, 1.2, 0.1, -0.2],
            "stability": [0.8, 0.8, -0.1, 0.3],
            "neo_rural": [0.1, -0.3, 0.2, 0.1],
            "custom": [0.0, 0.0, -0.9, 0.0],
        }
    )
    labels = typology.cluster_labels(centroids, specs)
    # clusters 0 and 1 share their strong terms: lengthened with their next indicator
    assert labels[0] == "éloignée des pôles, stable, plutôt en croissance"
    assert labels[1] == "éloignée des pôles, stable, plutôt peu d'arrivées"
    assert labels[2] == "associations faible"
    assert labels[3] == "dans la moyenne"


def test_cluster_labels_numbered_when_identical():
    centroids = pd.DataFrame({"hub_distance": [1.0, 1.0], "stability": [0.0, 0.0]})
    assert typology.cluster_labels(centroids, SPECS) == [
        "éloignée des pôles (1)",
        "éloignée des pôles (2)",
    ]


def test_typology_errors(three_groups):
    with pytest.raises(InvalidParameterError, match="'k' is 1"):
        typology.typology(three_groups, SPECS, k=1)
    with pytest.raises(InvalidParameterError, match="'k' is 40"):
        typology.typology(three_groups, SPECS, k=40)
    with pytest.raises(InvalidParameterError, match="'k_range'"):
        typology.typology(three_groups, SPECS, k_range=(5, 3))
    tiny = three_groups.iloc[:2]
    with pytest.raises(InvalidParameterError, match="only 2 distinct"):
        typology.typology(tiny, SPECS)
    empty = three_groups.assign(hub_distance_km=np.nan, stability_index=np.nan)
    with pytest.raises(InvalidParameterError, match="every indicator is missing"):
        typology.typology(empty, SPECS)


# --- communes like this one ----------------------------------------------------------------------


@pytest.fixture
def line() -> pd.DataFrame:
    """Communes on a grid where the nearest ones to 'ref' are obvious."""
    return pd.DataFrame(
        {
            "hub_distance_km": [10.0, 10.0, 11.0, 30.0, 50.0, 10.0],
            "stability_index": [0.5, 0.5, 0.5, 0.5, 0.1, 0.9],
        },
        index=["ref", "twin", "near", "mid", "far", "other"],
    )


def test_reference_is_its_own_nearest_neighbour(line):
    z, _ = typology.standardise(line, SPECS)
    distance, index = similarity._neighbours(z.to_numpy(), z.loc[["ref"]].to_numpy(), 1)
    assert z.index[index[0, 0]] in {"ref", "twin"}
    assert distance[0, 0] == 0.0


def test_nearest_excludes_reference_and_orders(line):
    found = typology.nearest(line, SPECS, ["ref"], top=3)
    assert list(found.index) == ["twin", "near", "mid"]
    assert found.loc["twin", "distance"] == 0.0
    assert "ref" not in found.index
    assert found["distance"].is_monotonic_increasing
    assert found.loc["near", "close_on"].startswith("Stabilité du conseil (0,00 σ)")
    assert found.loc["mid", "hub_distance_km"] == 30.0


def test_nearest_several_references_takes_the_nearest_of_them(line):
    found = typology.nearest(line, SPECS, ["ref", "far"], top=3)
    z, _ = typology.standardise(line, SPECS)
    others = z.drop(["ref", "far"])
    to_ref = ((others - z.loc["ref"]) ** 2).sum(axis=1) ** 0.5
    to_far = ((others - z.loc["far"]) ** 2).sum(axis=1) ** 0.5
    expected = pd.concat([to_ref, to_far], axis=1).min(axis=1).sort_values(kind="stable")
    assert list(found.index) == list(expected.index[:3])
    assert found["distance"].to_numpy() == pytest.approx(expected.to_numpy()[:3])
    assert found.loc["twin", "reference"] == "ref"
    nearer_far = to_far < to_ref
    for code in found.index:
        assert found.loc[code, "reference"] == ("far" if nearer_far[code] else "ref")


def test_nearest_errors(line):
    with pytest.raises(CommuneNotFoundError, match=r"\['99999'\]"):
        typology.nearest(line, SPECS, ["99999"])
    with pytest.raises(InvalidParameterError, match="'top' is 0"):
        typology.nearest(line, SPECS, ["ref"], top=0)
    with pytest.raises(InvalidParameterError, match="'references' is empty"):
        typology.nearest(line, SPECS, [])


# --- real base: department 24 and the command line ----------------------------------------------

MIALET = "24269"
TWO_EPCI = "242400752,200041168"


@pytest.fixture(scope="module")
def dordogne(base_dir):
    communes = load_communes(department="24", data_dir=base_dir)
    return communes, compute_indicators(communes, keys=typology.TYPOLOGY_KEYS, layers={})


def test_area_typology_dordogne(dordogne):
    communes, indicators = dordogne
    result = typology.area_typology(communes, k=4, indicators=indicators)
    assert result.k == 4 and len(result.assignments) == len(communes)
    assert result.assignments.loc[MIALET, "name"] == "Mialet"
    assert result.clusters["label"].is_unique
    assert result.clusters["communes"].sum() == len(communes)
    assert result.clusters["communes"].is_monotonic_decreasing
    again = typology.area_typology(communes.iloc[::-1], k=4, indicators=indicators)
    pd.testing.assert_series_equal(
        again.assignments["label"].loc[communes.index], result.assignments["label"]
    )


def test_similar_to_mialet_in_dordogne(dordogne):
    communes, indicators = dordogne
    found = typology.similar([MIALET], communes=communes, top=5, indicators=indicators)
    assert len(found) == 5 and MIALET not in found.index
    assert found["distance"].is_monotonic_increasing
    assert (found["department_code"] == "24").all()
    z, _ = typology.standardise(indicators, {k: get_indicator(k) for k in typology.TYPOLOGY_KEYS})
    gaps = ((z.drop(MIALET) - z.loc[MIALET]) ** 2).sum(axis=1) ** 0.5
    assert found["distance"].to_numpy() == pytest.approx(np.sort(gaps.to_numpy())[:5])


def test_cli_similar_json(cli):
    result = cli("similar", MIALET, "--department", "24", "--top", 3, "--format", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert len(rows) == 3 and MIALET not in {r["code"] for r in rows}
    assert {"code", "name", "distance", "close_on"} <= set(rows[0])


def test_cli_typology_csv(cli):
    result = cli("typology", "--epci", TWO_EPCI, "--k", 3, "--format", "csv")
    assert result.exit_code == 0, result.output
    table = pd.read_csv(io.StringIO(result.stdout), dtype={"code": str})
    assert table["cluster"].nunique() == 3 and table["label"].notna().all()
    outlines = cli("typology", "--epci", TWO_EPCI, "--k", 3, "--format", "geojson")
    assert outlines.exit_code == 0, outlines.output
    features = json.loads(outlines.stdout)["features"]
    assert len(features) == len(table)
    assert {"code", "cluster", "label"} <= set(features[0]["properties"])
    shown = cli("typology", "--epci", TWO_EPCI, "--k-min", 2, "--k-max", 4)
    assert shown.exit_code == 0, shown.output
    assert "silhouette k=2" in shown.output and "Types de territoires" in shown.output


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["similar", "99999", "-d", "24"], 1, "99999"),
        (["similar", ",", "-d", "24"], 2, "'references'"),
        (["similar", MIALET, "-d", "24", "-f", "geojson"], 2, "geojson"),
        (["typology", "--epci", TWO_EPCI, "--k", 1], 2, "Invalid value for '--k'"),
        (["typology", "--epci", TWO_EPCI, "--keys", "nope"], 1, "known indicators"),
    ],
)
def test_cli_errors(cli, args, code, needle):
    result = cli(*args)
    assert result.exit_code == code, result.output
    assert needle in " ".join(result.output.split())
