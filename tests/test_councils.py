"""Matching councillors across the two vintages, on small hand-made councils."""

from __future__ import annotations

import pandas as pd
import pytest

from geo._councils import council_indicators, match_councillors, person_keys


def council(rows: list[tuple]) -> pd.DataFrame:
    columns = [
        "code",
        "nom",
        "prenom",
        "sexe",
        "date_naissance",
        "fonction",
        "date_debut_mandat",
        "profession",
    ]
    return pd.DataFrame(
        [(*r, "2020-05-18", "37") if len(r) == 6 else r for r in rows], columns=columns
    )


def test_swapped_day_and_month_accents_and_short_first_names_match():
    new = council(
        [
            ("24269", "MOREL", "Vincent", "M", "1974-12-03", "MAI"),
            ("24269", "GÉNARD", "Claudine", "F", "1960-05-19", ""),
            ("24269", "KIEHL", "Fabrice", "M", "1964-12-26", ""),
        ]
    )
    old = council(
        [
            ("24269", "MOREL", "Vincent", "M", "1974-03-12", "MAI"),
            ("24269", "GENARD", "Claudine", "F", "1960-05-19", ""),
            ("24269", "KIEHL", "Fabrice Dominique", "M", "1964-12-26", ""),
        ]
    )
    matches, by_tier = match_councillors(person_keys(new), person_keys(old))
    assert matches.to_dict() == {0: 0, 1: 1, 2: 2}
    assert by_tier[0] == 3


def test_married_name_matches_on_first_name_sex_and_birth_date():
    new = council([("08439", "LEGROUX", "Amandine", "F", "1992-07-13", "")])
    old = council([("08439", "BERLU", "Amandine", "F", "1992-07-13", "")])
    matches, by_tier = match_councillors(person_keys(new), person_keys(old))
    assert matches.to_dict() == {0: 0}
    assert by_tier[1] == 1


def test_people_in_other_communes_or_of_other_sex_are_not_matched():
    new = council([("24269", "MARTIN", "Claude", "F", "1950-01-02", "")])
    old = council(
        [
            ("30168", "MARTIN", "Claude", "F", "1950-01-02", ""),
            ("24269", "MARTIN", "Claude", "M", "1950-01-02", ""),
        ]
    )
    matches, _ = match_councillors(person_keys(new), person_keys(old))
    assert matches.empty


def test_homonyms_are_never_paired_by_guess():
    # Two old councillors share every key with one new councillor: ambiguous.
    new = council([("24269", "DUPONT", "Jean", "M", "1960-01-01", "")])
    old = council(
        [
            ("24269", "DUPONT", "Jean", "M", "1960-01-01", ""),
            ("24269", "DUPONT", "Jean-Pierre", "M", "1960-01-01", ""),
        ]
    )
    matches, _ = match_councillors(person_keys(new), person_keys(old))
    assert matches.empty


def test_council_indicators_by_hand():
    new = council(
        [
            ("A", "MOREL", "Vincent", "M", "1974-12-03", "MAI"),
            ("A", "NOUVEAU", "Paul", "M", "1980-01-01", ""),
            ("A", "ROY", "Gilles", "M", "1958-06-01", ""),
            ("A", "AUTRE", "Anne", "F", "1990-02-02", ""),
            ("B", "ROBIN", "Christine", "F", "1967-03-11", "MAI"),
            ("B", "PETIT", "Luc", "M", "1970-04-04", ""),
        ]
    )
    old = council(
        [
            ("A", "MOREL", "Vincent", "M", "1974-03-12", "MAI", "2020-05-18", "37"),
            ("A", "ROY", "Gilles", "M", "1958-01-06", "", "2020-05-18", "74"),
            ("A", "PARTI", "Marc", "M", "1950-01-01", "", "2023-03-05", "74"),
            ("B", "ROBIN", "Christine", "F", "1967-11-03", "ADJ", "2020-05-18", "37"),
            ("B", "ANCIEN", "Max", "M", "1940-01-01", "MAI", "2020-05-18", "74"),
            ("B", "PETIT", "Luc", "M", "1970-04-04", "", "2022-01-10", "56"),
        ]
    )
    per, carried, report = council_indicators(new, old)
    assert per.loc["A", "councillors_2026"] == 4
    assert per.loc["A", "carried_over_share"] == pytest.approx(2 / 4)
    assert bool(per.loc["A", "mayor_reelected_2026"]) is True
    assert per.loc["A", "midterm_arrivals_2020_2026"] == 1
    # B's 2026 mayor was a deputy, not the mayor: not re-elected as mayor.
    assert bool(per.loc["B", "mayor_reelected_2026"]) is False
    assert per.loc["B", "carried_over_share"] == pytest.approx(1.0)
    assert per.loc["B", "midterm_arrivals_2020_2026"] == 1
    assert carried.tolist() == [True, False, True, False, True, True]
    assert report.matched == 4
    assert report.matched_names_only == 1  # only PETIT Luc matches exactly
    assert report.mayor_reelection_rate == pytest.approx(0.5)


def test_mayor_reelection_is_missing_when_the_old_council_has_no_mayor():
    new = council([("C", "SEUL", "Ada", "F", "1970-01-01", "MAI")])
    old = council([("C", "SEUL", "Ada", "F", "1970-01-01", "")])
    per, _, _ = council_indicators(new, old)
    assert pd.isna(per.loc["C", "mayor_reelected_2026"])
