"""Rurality indicator: the INSEE density class, official or approximated."""

from __future__ import annotations

import pandas as pd

from geo import rurality
from geo.indicators._registry import IndicatorContext, builtin


def compute_rurality(context: IndicatorContext) -> pd.DataFrame:
    """INSEE density class (official when imported, else approximated)."""
    official = context.official_grid
    if official is None or "density_class" not in official:
        context.note(
            "rurality: density classes approximated from population and area "
            "(import INSEE's grid with 'ancrage indicators add-insee' for official ones)"
        )
    return rurality.rurality_frame(context.communes, official)


def density_classes(context: IndicatorContext) -> pd.Series:
    """Density class of every commune of France (the shrinkage groups)."""
    return rurality.rurality_frame(context.france, context.official_grid)["density_class"]


RURALITY = builtin(
    "rurality",
    compute_rurality,
    ("density_class_approx", "density_class_official", "aav_category", "density"),
    label="Classe de densité (grille communale INSEE)",
    description="Classe de la grille communale de densité à 7 niveaux (1 grands centres "
    "urbains ... 7 rural à habitat très dispersé) : officielle (grille INSEE 2024 fournie "
    "avec le projet, ou fichier importé), sinon approchée par la densité et la population.",
    unit="class 1-7",
    direction="higher_better",
    column="density_class",
    sources=(
        "INSEE grille communale de densité à 7 niveaux, géographie 2024 (data/reference, "
        "ou fichier importé)",
        "INSEE aires d'attraction des villes 2020, géographie 2024 (data/reference)",
        "approximation : populations légales 2023 et surfaces des communes",
    ),
    vintage="grille 2024 (géographie 2024) ou populations 2023",
    licence="Licence Ouverte 2.0",
    method="Official DENS class of INSEE's 2024 grid shipped in data/reference (replaced by a "
    "file imported with add-insee), merged communes taking the class of their most populous "
    "2024 part; for communes it does not cover, first rule met: 1 density >= 1200/km2 and "
    "pop >= 5000; 2 density >= 250 and pop >= 10000; 4 density >= 300 and pop >= 1000; "
    "5 density >= 60 and pop >= 1000; 6 density >= 15; else 7 (tuned against the 2024 "
    "grid: 67% exact, 96% within one class). Higher class = more rural = the programme's "
    "focus, hence higher is better. aav_category: INSEE attraction-area category "
    "(11..30) when imported.",
)

__all__ = [
    "RURALITY",
    "compute_rurality",
    "density_classes",
]
