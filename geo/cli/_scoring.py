"""``ancrage score``, ``ancrage similar`` and ``ancrage typology``: ranked, explained communes."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import pandas as pd
import typer

from geo import communes, scoring, typology
from geo._errors import InvalidParameterError
from geo.cli._common import (
    STDOUT,
    OutputFormat,
    check_output,
    console,
    emit,
    err_console,
    format_option,
    friendly_errors,
)
from geo.cli._score_settings import (
    parse_codes,
    parse_hubs,
    parse_keys,
    provenance,
    replay,
    scenario_weights,
)


class Level(enum.StrEnum):
    """Level of the score table."""

    commune = "commune"
    epci = "epci"


DepartmentOption = Annotated[
    str | None,
    typer.Option(
        "--department", "-d", help="Department code(s), comma-separated, e.g. 24 or 24,19."
    ),
]
RegionOption = Annotated[
    str | None, typer.Option("--region", "-r", help="Region code(s), e.g. 75 (Nouvelle-Aquitaine).")
]
EpciOption = Annotated[
    str | None, typer.Option("--epci", help="EPCI SIREN code(s), comma-separated.")
]
CodesOption = Annotated[
    str | None, typer.Option("--codes", help="INSEE commune codes, comma-separated.")
]
if TYPE_CHECKING:  # format_option builds an Annotated[OutputFormat, ...] alias at run time
    FormatOption = OutputFormat
    ScoreFormatOption = OutputFormat
else:
    FormatOption = format_option(
        OutputFormat.table,
        OutputFormat.csv,
        OutputFormat.json,
        OutputFormat.geojson,
        what="Output format (geojson: with commune outlines)",
    )
    ScoreFormatOption = format_option(
        OutputFormat.table,
        OutputFormat.csv,
        OutputFormat.csv_fr,
        OutputFormat.json,
        OutputFormat.geojson,
        OutputFormat.xlsx,
        what="Output format (csv-fr: ';', decimal comma, BOM, French headers, for French "
        "spreadsheets; xlsx: results, weights and sources, data vintages; geojson: with outlines)",
    )
OutputOption = Annotated[
    Path | None,
    typer.Option(
        "--output",
        "-o",
        help="Write to this file (atomically); - or no option: standard output.",
        callback=check_output,
    ),
]
KeysOption = Annotated[
    str | None,
    typer.Option(
        "--keys",
        help="Indicators compared, comma-separated (default: cooperation, neo_rural, "
        "stability, hub_distance, rurality).",
    ),
]


def _report_missing(table: pd.DataFrame) -> None:
    for key, count in table.attrs.get("missing", {}).items():
        if count:
            err_console.print(
                f"note: {count} commune(s) of the area lack '{key}'; their score "
                "uses the other indicators (weights renormalised, see 'coverage')"
            )


def _report_outside(table: pd.DataFrame) -> None:
    if "communes_outside" not in table.columns:
        return
    cut = table[table["communes_outside"] > 0]
    for row in cut.itertuples(index=False):
        err_console.print(
            f"note: EPCI {row.epci_name} ({row.epci_code}) is scored whole; "
            f"{row.communes_outside} of its communes lie outside the area: {row.outside}",
            highlight=False,
        )


def score(  # noqa: PLR0913 - one parameter per command-line option
    *,
    department: DepartmentOption = None,
    region: RegionOption = None,
    epci: EpciOption = None,
    codes: CodesOption = None,
    top: Annotated[
        int | None,
        typer.Option(
            "--top", "-n", min=0, help="Rows shown or written (0 = every candidate; default 20)."
        ),
    ] = None,
    weights: Annotated[
        str | None,
        typer.Option(
            "--weights",
            "-w",
            help="Change the weight of some criteria, e.g. cooperation=2,rurality=1 (0 to "
            "100); the others keep their default (the four booklet criteria, 1 each).",
        ),
    ] = None,
    only: Annotated[
        str | None,
        typer.Option(
            "--only", help="Keep just these criteria, e.g. cooperation,stability (see --weights)."
        ),
    ] = None,
    fmt: ScoreFormatOption = OutputFormat.table,
    output: OutputOption = None,
    min_population: Annotated[
        int | None,
        typer.Option("--min-population", help="Keep communes with at least this population."),
    ] = None,
    max_population: Annotated[
        int | None,
        typer.Option("--max-population", help="Keep communes with at most this population."),
    ] = None,
    rurality: Annotated[
        str | None,
        typer.Option(
            "--rurality", help="Keep these density classes (1 dense ... 7 very sparse), e.g. 5,6,7."
        ),
    ] = None,
    exclude: Annotated[
        str | None,
        typer.Option("--exclude", help="INSEE codes to leave out, e.g. past hosts: 24269."),
    ] = None,
    stability_top: Annotated[
        int | None,
        typer.Option(
            "--stability-top",
            min=1,
            help="N of the rank stability (share of ±25 % weight draws in which "
            "a commune stays in the top N); default: --top or 20.",
        ),
    ] = None,
    level: Annotated[
        Level | None,
        typer.Option(
            "--level",
            help="commune, or epci for population-weighted means per EPCI (whole EPCIs, "
            "even those the area cuts; column 'outside' names their communes beyond it).",
        ),
    ] = None,
    hub_population: Annotated[
        int | None,
        typer.Option(
            "--hub-population",
            help="Commune rule: communes from this population up are hubs (as --hubs commune:N).",
        ),
    ] = None,
    hubs: Annotated[
        str | None,
        typer.Option(
            "--hubs",
            help="Urban hubs: aav:N (default aav:50000, centres of INSEE attraction areas "
            "of N inhabitants or more), commune:N, or INSEE codes, comma-separated.",
        ),
    ] = None,
    graph: Annotated[
        Path | None,
        typer.Option("--graph", help="Road graph (GraphML or .osm) for the travel_time indicator."),
    ] = None,
    map_file: Annotated[
        Path | None,
        typer.Option(
            "--map",
            help="Also write the targeting map (HTML): communes by score, the --top best "
            "outlined with their rank, EPCI borders, the programme's layers.",
        ),
    ] = None,
    save_scenario: Annotated[
        Path | None,
        typer.Option(
            "--save-scenario",
            help="Save the area, weights, filters, top, hubs and the data's vintages and "
            "store fingerprint to this JSON file, to replay with --scenario.",
        ),
    ] = None,
    scenario: Annotated[
        Path | None,
        typer.Option(
            "--scenario",
            help="Replay a saved scenario; options given alongside override its values. "
            "Warns on standard error when the data changed since it was saved.",
        ),
    ] = None,
) -> None:
    """Rank the communes of an area for hosting a programme, with explanations.

    Each indicator becomes a 0-1 percentile within the area (1 = best).
    The score is their weighted mean; each commune gets its rank, the
    contribution of each indicator, its rank stability and a French
    "reasons" text. Without an area, all of France is scored. The weights used
    are printed on standard error and stored in every export (weight_<key>
    columns; a "weights" member in GeoJSON).
    """
    given: dict[str, Any] = {
        "area": {"department": department, "region": region, "epci": epci, "codes": codes},
        "level": None if level is None else level.value,
        "top": top,
        "weights": weights,
        "only": only,
        "hubs": hubs,
        "hub_population": hub_population,
        "filters": {
            "min_population": min_population,
            "max_population": max_population,
            "rurality": rurality,
            "exclude": exclude,
        },
    }
    settings = replay(scenario, given) if scenario is not None else given
    area_codes, chosen = settings["area"], settings["filters"]
    level = Level(settings["level"] or Level.commune.value)
    top = 20 if settings["top"] is None else int(settings["top"])
    hubs, hub_population = settings["hubs"], settings["hub_population"]
    parsed = scenario_weights(settings)
    err_console.print(f"weights: {scoring.describe_weights(parsed)}", highlight=False)
    with friendly_errors():
        filters = scoring.ScoreFilters(
            min_population=chosen["min_population"],
            max_population=chosen["max_population"],
            rurality=scoring.parse_classes(chosen["rurality"]),
            exclude=tuple(c.strip() for c in (chosen["exclude"] or "").split(",") if c.strip()),
        )
        area = communes.load_communes(**area_codes)
        scored_area = scoring.whole_epcis(area) if level is Level.epci else area
        hub_choice = parse_hubs(hubs) if hubs is not None else hub_population
        options = {k: v for k, v in (("hubs", hub_choice), ("graph", graph)) if v is not None}
        table = scoring.score(
            scored_area,
            weights=parsed,
            filters=filters,
            indicator_options=options,
            stability_top=stability_top or top or 20,
        )
        if save_scenario is not None:
            settings = {**settings, "weights": parsed, "level": level.value, "top": top}
            path = scoring.save_scenario(save_scenario, settings, provenance=provenance())
            err_console.print(f"scenario saved to {path}", highlight=False)
        if map_file is not None:
            _write_map(table, scored_area, map_file, top=top or 10)
        if level is Level.epci:
            table = scoring.aggregate_epci(table, outlines=communes.load_boundaries("epci"))
            _report_outside(table)
    _report_missing(table)
    if top > 0:
        table = table.head(top)
    if level is Level.epci:
        shown = ["rank", "epci_code", "epci_name", "population", "communes", "score"]
        shown += ["communes_outside"]
        emit(
            table,
            fmt,
            output,
            title="EPCI classés (moyennes pondérées par la population)",
            shown=shown,
        )
        return
    shown = ["rank", "code", "name", "population", "score", "rank_stability"]
    emit(table, fmt, output, title="Communes classées (score 0-1, 1 = meilleur)", shown=shown)
    if fmt is OutputFormat.table and output in (None, STDOUT):
        for row in table[["rank", "name", "code", "reasons"]].itertuples(index=False):
            console.print(f"{row.rank}. {row.name} ({row.code}) — {row.reasons}", highlight=False)


def similar(
    references: Annotated[
        str,
        typer.Argument(
            help="INSEE code(s) of the reference commune(s), comma-separated, e.g. 24269."
        ),
    ],
    top: Annotated[
        int, typer.Option("--top", "-n", min=1, help="Number of communes returned.")
    ] = 10,
    department: DepartmentOption = None,
    region: RegionOption = None,
    france: Annotated[
        bool,
        typer.Option(
            "--france", help="Search all of France (default: the region(s) of the references)."
        ),
    ] = False,
    keys: KeysOption = None,
    fmt: FormatOption = OutputFormat.table,
    output: OutputOption = None,
) -> None:
    """List the communes most like the reference communes (e.g. past hosts).

    Indicators are standardised within the search area (missing values set
    to the area median). The communes closest to any reference come first,
    with that reference and the indicators on which they are closest.
    """
    with friendly_errors():
        area = None
        if france or department or region:
            area = communes.load_communes(department=department, region=region)
        found = typology.similar(
            parse_codes(references, "references"), communes=area, keys=parse_keys(keys), top=top
        )
    shown = ["code", "name", "department_code", "population", "distance", "reference", "close_on"]
    emit(found, fmt, output, title=f"Communes proches de {references}", shown=shown)


def typology_command(  # noqa: PLR0913 - one parameter per command-line option
    *,
    department: DepartmentOption = None,
    region: RegionOption = None,
    epci: EpciOption = None,
    codes: CodesOption = None,
    k: Annotated[
        int | None,
        typer.Option(
            "--k",
            "-k",
            min=2,
            help="Number of types (default: best silhouette from --k-min to --k-max).",
        ),
    ] = None,
    k_min: Annotated[
        int, typer.Option("--k-min", min=2, help="Smallest number of types tried.")
    ] = 3,
    k_max: Annotated[
        int, typer.Option("--k-max", min=2, help="Largest number of types tried.")
    ] = 8,
    keys: KeysOption = None,
    fmt: FormatOption = OutputFormat.table,
    output: OutputOption = None,
) -> None:
    """Group the communes of an area into territory types (KMeans on standardised indicators).

    The table shows one row per type with its French label, size and mean
    indicator values; csv, json and geojson give the type of every commune.
    """
    with friendly_errors():
        area = communes.load_communes(department=department, region=region, epci=epci, codes=codes)
        result = typology.area_typology(area, keys=parse_keys(keys), k=k, k_range=(k_min, k_max))
    if result.silhouettes:
        scores = ", ".join(f"k={n}: {s:.3f}" for n, s in result.silhouettes.items())
        err_console.print(f"silhouette {scores} -> k={result.k}")
    if result.dropped:
        err_console.print(f"note: left out (missing everywhere in the area): {result.dropped}")
    if fmt is OutputFormat.table and output in (None, STDOUT):
        shown = [c for c in result.clusters.columns if not c.startswith("z_")]
        emit(result.clusters, fmt, title=f"Types de territoires (k={result.k})", shown=shown)
        console.print("Each commune's type: --format csv, json or geojson.")
        return
    emit(result.assignments, fmt, output)


def _write_map(table: pd.DataFrame, area: pd.DataFrame, path: Path, *, top: int) -> None:
    """Write the targeting map of a score table (with the layer store's records)."""
    from geo import maps  # noqa: PLC0415 - folium loads only when a map is asked for
    from geo.store import Store  # noqa: PLC0415

    if not path.parent.is_dir():
        msg = f"'--map': folder {str(path.parent)!r} does not exist"
        raise InvalidParameterError(msg)
    layers = Store().read_area(area)
    epci = communes.load_boundaries("epci")
    fmap = maps.targeting_map(table, communes=area, top=top, layers=layers, epci=epci)
    err_console.print(f"map written to {maps.save_map(fmap, path)}")
