"""The emissions report: one self-contained HTML page drawn with plotly from the dbt marts.

Self-contained means the page loads nothing from the network: plotly.js is inlined once
(`include_plotlyjs=True`), MathJax is left out, and the modebar's plotly.com link is off, so it
opens from a file on an air-gapped machine exactly as it does here.
"""

from __future__ import annotations

import sys
from datetime import date
from html import escape
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report_data import ProviderCoverage, ReportData, read

PROVIDERS = {"aws": "AWS", "azure": "Azure", "gcp": "Google Cloud"}
# Scope colours and legend text: the legend explains what each shade means.
SCOPES = {
    1: ("#5b2a86", "Scope 1 (provider's direct emissions, as reported)"),
    2: ("#2a7ab0", "Scope 2 (electricity: market-based; Azure as reported, no split)"),
    3: ("#9cd3e0", "Scope 3 (upstream: market-based where split; as reported otherwise)"),
}
# Reported solid and dark; the estimate in all, then per method, dashed and in warm colours.
LINES = (("solid", "#222222"), ("dash", "#d95f02"), ("dot", "#7570b3"), ("dashdot", "#1b9e77"))
PLOT_CONFIG = {"displaylogo": False, "responsive": True}
INVENTORY_COLUMNS = (
    "year",
    "provider",
    "months",
    "scope 1",
    "scope 2 location",
    "scope 2 market",
    "scope 2 unsplit",
    "scope 3 location",
    "scope 3 market",
    "scope 3 unsplit",
    "total location",
    "total market",
    "scope 2 methods supplied",
)


def _month_end(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def _span(months: list[date]) -> str:
    if not months:
        return ""
    first, last = min(months), max(months)
    return f"{first:%Y-%m}" if first == last else f"{first:%Y-%m} to {last:%Y-%m}"


def _shade(fig: go.Figure, months: list[date], row: int, style: dict[str, Any]) -> None:
    """Shade the runs of consecutive `months` on one panel (one legend entry per kind)."""
    runs: list[list[date]] = []
    for month in sorted(months):
        if runs and _month_end(runs[-1][-1]) == month:
            runs[-1].append(month)
        else:
            runs.append([month])
    for run in runs:
        fig.add_vrect(
            x0=run[0], x1=_month_end(run[-1]), row=row, col=1, line_width=0, layer="below", **style
        )
        style = {**style, "showlegend": False}


def _x_range(data: ReportData, providers: list[str]) -> list[date]:
    """One time axis for every panel: first month loaded to the last month with a status."""
    months = [m for p in providers for s in data.monthly[p].values() for m in s]
    for provider in providers:
        cover = data.coverage.get(provider, ProviderCoverage())
        months += cover.awaiting + cover.missing + cover.restatable
    return [min(months), _month_end(max(months))]


def provider_panels(data: ReportData) -> go.Figure:
    """One panel per provider, each on its own y scale, stacked by scope, with coverage."""
    providers = [p for p in PROVIDERS if p in data.monthly]
    titles = []
    for provider in providers:
        cover = data.coverage.get(provider, ProviderCoverage())
        through = f"data through {cover.last_loaded:%Y-%m}" if cover.last_loaded else "no data"
        titles.append(f"{PROVIDERS[provider]}: kgCO2e per month ({through})")
    fig = make_subplots(
        rows=len(providers), cols=1, subplot_titles=titles, vertical_spacing=0.24 / len(providers)
    )
    shown: set[str] = set()
    for row, provider in enumerate(providers, start=1):
        for scope, by_month in sorted(data.monthly[provider].items()):
            colour, label = SCOPES[scope]
            months = sorted(by_month)
            fig.add_trace(
                go.Bar(
                    x=months,
                    y=[by_month[m] for m in months],
                    name=label,
                    legendgroup=f"scope {scope}",
                    showlegend=label not in shown,
                    marker_color=colour,
                    xperiod="M1",
                    xperiodalignment="middle",
                    hovertemplate=f"{PROVIDERS[provider]} scope {scope}<br>%{{x|%Y-%m}}: "
                    "%{y:,.1f} kgCO2e<extra></extra>",
                ),
                row=row,
                col=1,
            )
            shown.add(label)
        provisional = data.provisional.get(provider, {})
        if provisional:
            # Estimates are location-based (no market-based estimate exists), so the bar stands
            # beside market-based ones: the label says so rather than let it read as a jump.
            label = (
                "Provisional estimate, location-based (not yet reported; "
                "fct_cloud_emissions_nowcast)"
            )
            months = sorted(provisional)
            fig.add_trace(
                go.Bar(
                    x=months,
                    y=[provisional[m] for m in months],
                    name=label,
                    legendgroup=label,
                    showlegend=label not in shown,
                    marker={"color": "#bbbbbb", "pattern": {"shape": "/"}},
                    xperiod="M1",
                    xperiodalignment="middle",
                    hovertemplate=f"{PROVIDERS[provider]} provisional, location-based<br>"
                    "%{x|%Y-%m}: "
                    "%{y:,.1f} kgCO2e<extra></extra>",
                ),
                row=row,
                col=1,
            )
            shown.add(label)
        cover = data.coverage.get(provider, ProviderCoverage())
        kinds = (
            (cover.restatable, "#fff3c4", "Loaded, may still be restated (inside the lookback)"),
            (cover.awaiting, "#d9d9d9", "Awaiting publication (before the provider's date)"),
            (cover.missing, "#f4b6b6", "Not loaded although past its publication date"),
        )
        for months, colour, label in kinds:
            style = {"fillcolor": colour, "opacity": 0.6, "name": label, "legendgroup": label}
            _shade(fig, months, row, {**style, "showlegend": label not in shown})
            if months:
                shown.add(label)
        if cover.last_loaded:
            label = "Where the provider's loaded data ends"
            fig.add_vline(
                x=_month_end(cover.last_loaded),
                row=row,
                col=1,
                line={"color": "#222", "dash": "dash", "width": 2},
                name=label,
                legendgroup=label,
                showlegend=label not in shown,
            )
            shown.add(label)
        fig.update_yaxes(title_text="kgCO2e", rangemode="tozero", row=row, col=1)
    fig.update_xaxes(range=_x_range(data, providers), showticklabels=True)
    fig.update_layout(
        barmode="stack",
        height=330 * len(providers) + 80,
        margin={"t": 60, "l": 70, "r": 30, "b": 40},
        legend={"orientation": "h", "y": -0.04, "yanchor": "top"},
        template="plotly_white",
    )
    return fig


def estimates_panel(data: ReportData) -> go.Figure:
    """Reported against estimated, one panel per provider (only when estimates exist)."""
    assert data.reported is not None and data.estimated is not None
    providers = [p for p in PROVIDERS if p in data.reported or p in data.estimated]
    fig = make_subplots(
        rows=len(providers),
        cols=1,
        subplot_titles=[f"{PROVIDERS[p]}: reported against estimated, kgCO2e" for p in providers],
    )
    shown: set[str] = set()
    for row, provider in enumerate(providers, start=1):
        lines = {"Reported (location-based or as reported)": data.reported.get(provider, {})}
        methods = data.estimated.get(provider, {})
        lines["Estimated, all methods"] = methods.get("all", {})
        if len(methods) > 2:  # more than one method: each on its own line too
            for method, by_month in sorted(methods.items()):
                if method != "all":
                    lines[f"Estimated, {method.replace('_', '-')}"] = by_month
        for index, (label, by_month) in enumerate(lines.items()):
            if not by_month:  # an empty trace would hide its legend entry on later panels
                continue
            months = sorted(by_month)
            fig.add_trace(
                go.Scatter(
                    x=months,
                    y=[by_month[m] for m in months],
                    name=label,
                    legendgroup=label,
                    showlegend=label not in shown,
                    mode="lines+markers",
                    line={
                        "dash": LINES[index % len(LINES)][0],
                        "color": LINES[index % len(LINES)][1],
                    },
                ),
                row=row,
                col=1,
            )
            shown.add(label)
        fig.update_yaxes(title_text="kgCO2e", rangemode="tozero", row=row, col=1)
    fig.update_layout(
        height=280 * len(providers) + 80,
        template="plotly_white",
        legend={"orientation": "h", "y": -0.06, "yanchor": "top"},
    )
    return fig


def _tonnes(kg: Any) -> str:
    return "-" if kg is None else f"{float(kg) / 1000:,.3f}"


def inventory_table(rows: list[tuple[Any, ...]]) -> str:
    """The GHG inventory per calendar year x provider, tCO2e, scopes and methods side by side."""
    head = "".join(f"<th>{escape(c)}</th>" for c in INVENTORY_COLUMNS)
    body = []
    for year, provider, months, *figures, methods in rows:
        cells = [escape(str(year)), escape(PROVIDERS.get(provider, provider)), str(months)]
        cells += [_tonnes(kg) for kg in figures]
        cells.append(escape(methods or ""))
        body.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return f"<table class='inventory'><tr>{head}</tr>{''.join(body)}</table>"


def _coverage_lines(data: ReportData) -> str:
    items = []
    for provider in (p for p in PROVIDERS if p in data.monthly):
        cover = data.coverage.get(provider, ProviderCoverage())
        text = f"{PROVIDERS[provider]}: loaded through {cover.last_loaded:%Y-%m}"
        if cover.awaiting:
            text += f"; awaiting publication: {_span(cover.awaiting)}"
        if cover.missing:
            text += f"; not loaded although published: {_span(cover.missing)}"
        if cover.restatable:
            text += f"; may still be restated: {_span(cover.restatable)}"
        items.append(f"<li>{escape(text)}</li>")
    return "<ul>" + "".join(items) + "</ul>"


STYLE = (
    "body{font-family:system-ui,sans-serif;margin:24px;color:#222}"
    "table.inventory{border-collapse:collapse;font-size:13px}"
    ".inventory th,.inventory td{border:1px solid #ccc;padding:3px 8px;text-align:right}"
    ".inventory td:nth-child(-n+2),.inventory td:last-child{text-align:left}"
    ".note{color:#555}"
)


def _figure_html(fig: go.Figure, *, first: bool) -> str:
    """A figure's div; the first one on the page carries plotly.js inline."""
    return fig.to_html(
        full_html=False, include_plotlyjs=first, include_mathjax=False, config=PLOT_CONFIG
    )


def render(data: ReportData) -> str:
    """The whole page as HTML text, plotly.js inlined once."""
    if data.monthly:
        panels = _figure_html(provider_panels(data), first=True)
    else:
        panels = "<p class='note'>No emissions loaded yet: run the taps and dbt build first.</p>"
    if data.reported is None:
        estimates = (
            "<p class='note'>Reported against estimated: not drawn, the estimate models"
            " (rpt_reported_vs_estimated) are not built in this warehouse.</p>"
        )
    elif not data.reported and not data.estimated:
        estimates = (
            "<p class='note'>Reported against estimated: not drawn, rpt_reported_vs_estimated"
            " has no rows yet.</p>"
        )
    else:
        estimates = _figure_html(estimates_panel(data), first=not data.monthly)
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>Cloud emissions report</title><style>{STYLE}</style></head><body>"
        "<h1>Cloud emissions by provider, month and scope</h1>"
        "<p>Provider-reported figures (fct_ghg_inventory): market-based where the provider splits"
        " location- and market-based, as reported where it does not. Each provider has its own"
        " scale.</p>"
        f"<h2>Coverage</h2>{_coverage_lines(data)}"
        f"<h2>Monthly emissions</h2>{panels}"
        "<h2>GHG inventory by calendar year, tCO2e</h2>"
        "<p class='note'>- = not supplied by the provider. Scope 2 unsplit: one figure with no"
        " location/market split (Azure), counted in both totals.</p>"
        f"{inventory_table(data.inventory)}"
        f"<h2>Reported against estimated</h2>{estimates}"
        "</body></html>"
    )


def write_report(conn: Any, path: Path) -> Path:
    """Read the marts over `conn` and write the page to `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(read(conn)), encoding="utf-8")
    return path
