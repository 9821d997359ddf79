"""``ancrage outreach`` (venues advisers should attend) and ``ancrage meet`` (halfway places)."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer

from geo import communes, outreach
from geo._errors import InvalidParameterError
from geo.cli._common import (
    STDOUT,
    TableFormat,
    check_output,
    console,
    err_console,
    friendly_errors,
    print_frame,
    write_output,
)
from geo.layers import EXPERTISE


class PlanFormat(enum.StrEnum):
    """Output formats of ``ancrage outreach``."""

    table = "table"
    csv = "csv"
    json = "json"
    geojson = "geojson"
    ics = "ics"


class DemandKind(enum.StrEnum):
    """What a commune's demand is."""

    underserved = "underserved"
    population = "population"


_SHOWN = [
    "order",
    "date",
    "date_note",
    "name",
    "kind",
    "commune_name",
    "demand_added",
    "communes_reached",
    "round_trip_km",
]


def _split(value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    return tuple(v.strip() for v in value.split(",") if v.strip())


def _area(department: str | None, epci: str | None, region: str | None) -> Any:
    given = [v for v in (department, epci, region) if v]
    if len(given) != 1:
        msg = "give exactly one area: --department, --epci or --region"
        raise InvalidParameterError(msg)
    return communes.load_communes(department=department, epci=epci, region=region)


def _summary_line(result: outreach.AreaPlan) -> str:
    s = result.summary
    proof = "optimum prouvé" if s["optimal"] else f"écart d'optimalité ≤ {100 * s['gap']:.2f} %"
    reached = f"{s['demand_reached']:,.0f}".replace(",", " ")
    total = f"{s['demand_total']:,.0f}".replace(",", " ")
    return (
        f"{len(result.table)} lieu(x) ; demande atteinte {reached} sur {total} "
        f"({100 * s['share_reached']:.1f} %) ; {proof} "
        f"({s['candidates']} candidats, {s['solve_seconds']} s)"
    )


def outreach_command(  # noqa: PLR0913 - one parameter per command-line option
    *,
    start: Annotated[str, typer.Option("--from", help="First day of the window (YYYY-MM-DD).")],
    end: Annotated[str, typer.Option("--to", help="Last day of the window (YYYY-MM-DD).")],
    venues: Annotated[int, typer.Option("--venues", "-k", help="At most this many venues.")],
    department: Annotated[str | None, typer.Option("--department", "-d")] = None,
    epci: Annotated[str | None, typer.Option("--epci")] = None,
    region: Annotated[str | None, typer.Option("--region", "-r")] = None,
    radius_km: Annotated[
        float | None, typer.Option("--radius-km", help="Reach of a venue (great circle).")
    ] = None,
    minutes: Annotated[
        float | None, typer.Option("--minutes", help="Reach in minutes on --graph.")
    ] = None,
    graph: Annotated[
        Path | None, typer.Option("--graph", help="Road graph (GraphML/.osm).")
    ] = None,
    base: Annotated[
        str | None, typer.Option("--base", help="Adviser's base commune (INSEE code).")
    ] = None,
    budget_km: Annotated[
        float | None, typer.Option("--budget-km", help="Total round-trip km from --base.")
    ] = None,
    advisers: Annotated[
        int | None, typer.Option("--advisers", help="At most this many venues a day.")
    ] = None,
    expertise: Annotated[
        str | None, typer.Option("--expertise", help="Expertise asked (underserved demand).")
    ] = None,
    demand: Annotated[
        DemandKind, typer.Option("--demand", help="underserved (coverage) or population.")
    ] = DemandKind.underserved,
    demand_weights: Annotated[
        str | None,
        typer.Option(
            "--weights",
            help="Under-served weights, e.g. uncovered=1,paper_only=0.75,"
            "missing_expertise=0.5,covered=0 (keys not given keep these defaults).",
        ),
    ] = None,
    candidates: Annotated[
        str, typer.Option("--candidates", help="Some of events,places,townhalls.")
    ] = "events,places",
    kind: Annotated[
        str | None, typer.Option("--kind", help="Event kinds kept, e.g. fair,market.")
    ] = None,
    times_score: Annotated[
        bool,
        typer.Option(
            "--times-score", help="Multiply the demand by each commune's 'ancrage score' (0-1)."
        ),
    ] = False,
    score_weights: Annotated[
        str | None,
        typer.Option("--score-weights", help="Weights of that score, as in 'ancrage score -w'."),
    ] = None,
    time_limit: Annotated[
        float, typer.Option("--time-limit", help="Seconds for the solver (best plan + gap).")
    ] = 60.0,
    fmt: Annotated[PlanFormat, typer.Option("--format", "-f")] = PlanFormat.table,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Write to this file (atomically); '-' or none: standard output.",
            callback=check_output,
        ),
    ] = None,
    map_file: Annotated[
        Path | None, typer.Option("--map", help="Write the outreach map (HTML).")
    ] = None,
    store: Annotated[Path | None, typer.Option("--store", help="GeoPackage of the layers.")] = None,
) -> None:
    """Choose the venues (events, third places, town halls) that reach the most demand.

    An exact maximal covering choice (integer programme, HiGHS): at most --venues
    venues in the window, each commune counted once; "optimal" only when proven.
    """
    from geo.store import Store  # noqa: PLC0415

    with friendly_errors():
        if expertise is not None and expertise not in EXPERTISE:
            msg = f"'--expertise' is {expertise!r}, expected one of {', '.join(EXPERTISE)}"
            raise InvalidParameterError(msg)
        request = outreach.PlanRequest(
            start=start,
            end=end,
            k=venues,
            radius_km=radius_km,
            minutes=minutes,
            advisers=advisers,
            budget_km=budget_km,
            candidates=_split(candidates) or (),
            event_kinds=_split(kind),
            time_limit=time_limit,
        )
        if venues < 1:
            msg = f"'--venues' should be ≥ 1, got {venues}"
            raise InvalidParameterError(msg)
        outreach.check_window(start, end)
        area = _area(department, epci, region)
        base_row = communes.get_commune(base) if base is not None else None
        road = None
        if minutes is not None:
            from geo.distances import load_road_graph  # noqa: PLC0415

            if graph is None:
                msg = "'--minutes' needs a road graph: --graph FILE"
                raise InvalidParameterError(msg)
            road = load_road_graph(graph)
        parsed_weights = outreach.parse_weights(demand_weights) if demand_weights else None
        if parsed_weights is not None and demand is DemandKind.population:
            msg = "'--weights' applies to --demand underserved, not to --demand population"
            raise InvalidParameterError(msg)
        layers, weights = outreach.area_inputs(
            area,
            Store(store),
            demand=demand.value,
            expertise=expertise,
            graph=road,
            weights=parsed_weights,
        )
        if times_score:
            from geo import scoring  # noqa: PLC0415

            parsed = scoring.parse_weights(score_weights) if score_weights else None
            scores = scoring.score(area, weights=parsed)
            weights = outreach.score_weighted(weights, scores.set_index("code")["score"])
        if float(weights.sum()) == 0:
            err_console.print(
                "note: the demand of every commune of the area is 0 (all covered for what "
                "was asked); try --expertise KEY or --demand population"
            )
        result = outreach.plan_area(
            area, layers, request, demand=weights, base=base_row, graph=road
        )
        _emit(result, fmt, output)
        if map_file is not None:
            from geo import maps  # noqa: PLC0415

            fmap = maps.outreach_map(
                area,
                result.table,
                reached=result.plan.reached,
                demand=weights,
                radius_km=radius_km if minutes is None else None,
            )
            maps.save_map(fmap, map_file)
            err_console.print(f"map written to {map_file}")
    err_console.print(_summary_line(result))


def _emit(result: outreach.AreaPlan, fmt: PlanFormat, output: Path | None) -> None:
    if fmt is PlanFormat.table and output is None:
        shown = result.table.reindex(columns=_SHOWN).copy()
        shown["date"] = pd.to_datetime(shown["date"]).dt.strftime("%Y-%m-%d")
        print_frame(shown.round(1), TableFormat.table, title="Plan d'aller-vers")
        return
    text = outreach.plan_to_text(result, "csv" if fmt is PlanFormat.table else fmt.value)
    if write_output(text, output or STDOUT) is not None:
        err_console.print(f"plan written to {output}")


def meet_command(
    *,
    base: Annotated[str, typer.Option("--base", help="Adviser's base commune (INSEE code).")],
    holders: Annotated[
        str, typer.Option("--holders", help="Project holders' communes (INSEE codes, comma-sep.).")
    ],
    top: Annotated[int, typer.Option("--top", "-n", help="Places listed.")] = 5,
    graph: Annotated[
        Path | None, typer.Option("--graph", help="Road graph: rank by minutes.")
    ] = None,
    fmt: Annotated[TableFormat, typer.Option("--format", "-f")] = TableFormat.table,
    store: Annotated[Path | None, typer.Option("--store", help="GeoPackage of the layers.")] = None,
) -> None:
    """Halfway meeting places: third places and town halls minimising the longest trip."""
    from geo.store import Store  # noqa: PLC0415

    with friendly_errors():
        codes = _split(holders) or ()
        if not codes:
            msg = "'--holders' is empty; give INSEE codes, e.g. 19145,19148"
            raise InvalidParameterError(msg)
        road = None
        if graph is not None:
            from geo.distances import load_road_graph  # noqa: PLC0415

            road = load_road_graph(graph)
        found = outreach.meet(base, codes, places=Store(store).read("places"), top=top, graph=road)
    columns = [c for c in found.columns if c not in ("lon", "lat")]
    print_frame(found[columns], fmt, title="Lieux de rendez-vous à mi-chemin")
    if fmt is TableFormat.table:
        console.print("longest = trajet le plus long ; total = somme des trajets")
