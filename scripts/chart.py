"""A self-contained HTML page (inline SVG, no scripts, no downloads) of monthly emissions."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from html import escape
from pathlib import Path

# One hue per provider, three shades per scope: scope 1 darkest.
COLOURS = {
    "aws": ("#8a4b00", "#e07b00", "#ffc46b"),
    "azure": ("#00457a", "#0078d4", "#7cc0ff"),
    "gcp": ("#1b5e20", "#34a853", "#9be3a6"),
}


def write_chart(rows: list[tuple[str, date, int, float]], path: Path) -> Path:
    """`rows`: (provider, month, scope, kgCO2e) with market-based (or as-reported) figures."""
    stacks: dict[date, list[tuple[str, int, float]]] = defaultdict(list)
    for provider, month, scope, kg in rows:
        stacks[month].append((provider, scope, float(kg)))
    months = sorted(stacks)
    width, height, left, bottom, top = 960, 420, 70, 60, 30
    peak = max((sum(kg for *_, kg in stacks[m]) for m in months), default=1.0) or 1.0
    bar = (width - left - 20) / max(len(months), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        'font-family="sans-serif" font-size="11">'
    ]
    for tick in range(5):
        value = peak * tick / 4
        y = height - bottom - (height - bottom - top) * tick / 4
        parts.append(
            f'<line x1="{left}" x2="{width - 20}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
        )
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{value:,.0f}</text>')
    for index, month in enumerate(months):
        x = left + index * bar
        y = height - bottom
        for provider, scope, kg in sorted(stacks[month]):
            h = (height - bottom - top) * kg / peak
            y -= h
            colour = COLOURS.get(provider, ("#555", "#888", "#bbb"))[scope - 1]
            label = escape(f"{provider} scope {scope} {month:%Y-%m}: {kg:,.1f} kgCO2e")
            parts.append(
                f'<rect x="{x + 1:.1f}" y="{y:.1f}" width="{bar - 2:.1f}" height="{h:.1f}" '
                f'fill="{colour}"><title>{label}</title></rect>'
            )
        if index % 3 == 0:
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{height - bottom + 16}" text-anchor="middle">'
                f"{month:%Y-%m}</text>"
            )
    parts.append(
        f'<text x="{left}" y="{height - 12}">kgCO2e per month, market-based where reported '
        "(scope 1 as reported); darker = lower scope</text></svg>"
    )
    legend = "".join(
        f'<span style="background:{shades[1]};padding:2px 8px;margin-right:8px;color:#fff">'
        f"{escape(provider)}</span>"
        for provider, shades in COLOURS.items()
        if any(p == provider for p, *_ in rows)
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "<!doctype html><meta charset='utf-8'><title>Cloud emissions by month</title>"
        "<h1 style='font-family:sans-serif'>Cloud emissions by provider, month and scope</h1>"
        f"<p style='font-family:sans-serif'>{legend}</p>{''.join(parts)}"
    )
    return path
