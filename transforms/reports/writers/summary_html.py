"""Writer `summary-html/1`: the summary document as one self-contained bilingual HTML page.

Charts are inline SVG whose geometry is computed here (docs/reports-summary.md says why: no script, a few KB,
prints, opens offline). Every text from input files reaches the page through jinja2 with autoescape on; this
module computes only numbers and picks template branches, it never builds markup from strings.
Same document → same bytes: nothing here reads a clock, and every collection is sorted by the builder.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import jinja2
import lxml.etree
import lxml.html

from transforms.reports.base import Figure, ReportDoc

TEMPLATE = "summary.html.j2"
# Figures the page must always show (the check refuses a page without them).
KEY_FIGURES = (
    "total/embedded_chargeable_tco2e",
    "total/net_mass_t",
    "determination/actual_share",
    "stake/extra_tco2e",
    "quality/files",
    "quality/rows_quarantined",
)
PALETTE = {
    "own_direct": "#1b5e7a",
    "own_indirect": "#6aaac4",
    "precursors_direct": "#3f7a35",
    "precursors_indirect": "#9cc58a",
    "actual_not_split": "#5b6b7a",
    "default_direct": "#d9662b",
    "default_indirect": "#f0ae7c",
    "transport_inbound": "#8b8f94",
    "transport_outbound": "#b9bcc0",
    "actual": "#1b5e7a",
    "default": "#d9662b",
    "bar": "#1b5e7a",
}
SITE_COLOURS = ("#1b5e7a", "#d9662b", "#3f7a35", "#8e44ad", "#b7950b", "#c0392b")


def file_name(doc: ReportDoc) -> str:
    return f"summary-{doc.model['year']}.html"


def raw_value(v: Figure) -> str:
    """A figure as the page's `data-value` attribute: full precision (repr), never rounded."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v)
    return str(v)


def format_figure(name: str, v: Figure) -> str:
    """A figure as the page shows it: rounded only here, with the unit's usual precision (unit shown beside)."""
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "pass · 达标" if v else "fail · 未达标"
    if isinstance(v, str):
        return v
    if isinstance(v, int):
        return f"{v:,}"
    if not math.isfinite(v):
        return str(v)
    if v == 0:
        return "0"
    if name.endswith("_share"):
        return f"{v * 100:.1f} %"
    if name.endswith("_eur_per_t"):
        return f"{v:,.2f}"
    if name.endswith(("_eur", "_mwh")):
        return f"{v:,.0f}"
    if name.endswith(("_tco2e", "_t")):
        return f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.1f}" if abs(v) >= 1 else f"{v:,.3f}"
    return f"{v:,.3f}"


def _text_em(s: str) -> float:
    """Rough width of a label in em (CJK full width, Latin ~0.56): enough to keep labels inside their column."""
    return sum(1.0 if ord(c) > 0x2E80 else 0.56 for c in s)


def _clip(s: str, max_em: float) -> str:
    if _text_em(s) <= max_em:
        return s
    out = ""
    for c in s:
        if _text_em(out + c + "…") > max_em:
            break
        out += c
    return out + "…"


def nice_ticks(top: float, n: int = 5) -> list[float]:
    """0 and round steps up to at least `top` (1, 2, 2.5 or 5 × 10^k)."""
    if not top or top <= 0 or not math.isfinite(top):
        return [0.0, 1.0]
    raw = top / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    count = math.ceil(top / step - 1e-9)
    return [i * step for i in range(count + 1)]


def tick_label(v: float) -> str:
    if v >= 1000:
        return f"{v / 1000:,.{0 if v % 1000 == 0 else 1}f}k"
    return f"{v:,.{0 if v == int(v) else 1}f}"


def hbar(
    rows: list[dict[str, Any]], width: int = 520, label_w: int = 190, value_w: int = 70
) -> dict[str, Any]:
    """Horizontal bars: rows carry `fig` (figure name of the value), `value`, `en`, `zh` and optional `parts`
    (stacked segments, each `fig`, `value`, `colour`). Returns the geometry the template draws."""
    row_h, top = 36, 6
    values = [r["value"] or 0.0 for r in rows]
    ticks = nice_ticks(max([*values, 0.0]))
    area = width - label_w - value_w
    scale = area / ticks[-1]
    out = []
    for i, r in enumerate(rows):
        y = top + i * row_h
        segs, x = [], label_w
        for p in r.get("parts") or [{"value": r["value"] or 0.0, "colour": r.get("colour", PALETTE["bar"])}]:
            w = max(0.0, (p["value"] or 0.0) * scale)
            segs.append({"x": x, "w": w, "colour": p["colour"]})
            x += w
        out.append(
            {
                **r,
                "value_fig": r.get("value_fig", r["fig"]),
                "y": y,
                "label": _clip(r["en"], (label_w - 14) / 12.0),  # 12 px labels
                "label_zh": _clip(r.get("zh") or "", (label_w - 14) / 11.0),  # 11 px second line
                "segs": segs,
                "value_x": x + 6,
            }
        )
    axis_y = top + len(rows) * row_h + 2
    return {
        "width": width,
        "height": axis_y + 34,
        "rows": out,
        "label_w": label_w,
        "axis_y": axis_y,
        "ticks": [{"x": label_w + t * scale, "label": tick_label(t)} for t in ticks],
    }


def vbar(
    months: list[str], figures: dict[str, Figure], width: int = 1040, height: int = 280
) -> dict[str, Any]:
    """Monthly stacked bars (actual, default) of chargeable tCO2e."""
    left, right, top, bottom = 64, 12, 14, 44
    stacks = []
    for ym in months:
        a = figures.get(f"month/{ym}/actual_chargeable_tco2e") or 0.0
        d = figures.get(f"month/{ym}/default_chargeable_tco2e") or 0.0
        stacks.append((ym, float(a), float(d)))
    ticks = nice_ticks(max([a + d for _, a, d in stacks] + [0.0]))
    plot_h = height - top - bottom
    scale = plot_h / ticks[-1]
    slot = (width - left - right) / max(1, len(months))
    bars = []
    for i, (ym, a, d) in enumerate(stacks):
        x = left + i * slot + slot * 0.18
        ha, hd = a * scale, d * scale
        base = top + plot_h
        bars.append(
            {
                "ym": ym,
                "x": x,
                "w": slot * 0.64,
                "cx": left + (i + 0.5) * slot,
                "ya": base - ha,
                "ha": ha,
                "yd": base - ha - hd,
                "hd": hd,
                "month": int(ym[5:]),
                "fig_a": f"month/{ym}/actual_chargeable_tco2e",
                "fig_d": f"month/{ym}/default_chargeable_tco2e",
            }
        )
    return {
        "width": width,
        "height": height,
        "left": left,
        "right": width - right,
        "top": top,
        "base": top + plot_h,
        "bars": bars,
        "ticks": [{"y": top + plot_h - t * scale, "label": tick_label(t)} for t in ticks],
    }


def share_lines(sites: list[dict[str, Any]], year: int, figures: dict[str, Figure]) -> dict[str, Any]:
    """Monthly renewable-electricity share per site, 0–100 %."""
    width, height, left, right, top, bottom = 520, 240, 48, 12, 12, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    months = [f"{year}-{m:02d}" for m in range(1, 13)]
    step = plot_w / 12
    series = []
    for i, s in enumerate(sites):
        pts = []
        for ym in s["months"]:
            v = figures.get(f"{s['fig']}/month/{ym}/renewable_electricity_share")
            if isinstance(v, float) and ym in months:
                pts.append({"x": left + (months.index(ym) + 0.5) * step, "y": top + plot_h * (1 - v)})
        points = " ".join(f"{p['x']:.1f},{p['y']:.1f}" for p in pts)  # numbers only
        series.append(
            {"site": s, "colour": SITE_COLOURS[i % len(SITE_COLOURS)], "pts": pts, "points": points}
        )
    return {
        "width": width,
        "height": height,
        "left": left,
        "right": width - right,
        "top": top,
        "base": top + plot_h,
        "series": series,
        "months": [{"x": left + (i + 0.5) * step, "m": i + 1} for i in range(12)],
        "ticks": [{"y": top + plot_h * (1 - t / 100), "label": f"{t} %"} for t in (0, 25, 50, 75, 100)],
    }


SOURCE_ROWS = (
    ("own_direct", "Own direct", "自身直接排放"),
    ("own_indirect", "Own indirect (electricity)", "自身间接排放(电力)"),
    ("precursors_direct", "Precursors, direct", "前体直接排放"),
    ("precursors_indirect", "Precursors, indirect", "前体间接排放"),
    ("actual_not_split", "Actual, not split", "实际值(未拆分)"),
    ("default_direct", "Default values, direct", "默认值 直接"),
    ("default_indirect", "Default values, indirect", "默认值 间接"),
)


def _model(doc: ReportDoc) -> dict[str, Any]:
    f, m = doc.figures, doc.model
    src = [
        {
            "fig": f"source/{k}_tco2e",
            "value": f[f"source/{k}_tco2e"],
            "en": en,
            "zh": zh,
            "colour": PALETTE[k],
        }
        for k, en, zh in SOURCE_ROWS
        if k != "actual_not_split" or f["source/actual_not_split_tco2e"]
    ]
    transport = [
        {
            "fig": f"source/transport_{d}_wtw_tco2e",
            "value": f[f"source/transport_{d}_wtw_tco2e"],
            "en": en,
            "zh": zh,
            "colour": PALETTE[f"transport_{d}"],
        }
        for d, en, zh in (
            ("inbound", "Inbound transport", "进厂运输"),
            ("outbound", "Outbound transport", "出厂运输"),
        )
    ]

    def ranking(rows: list[dict[str, Any]]) -> dict[str, Any]:
        shown = []
        for r in rows:
            fig = f"{r['fig']}/embedded_chargeable_tco2e"
            if r.get("other"):
                r = {**r, "value": f[fig], "en": f"{f[r['fig'] + '/count']} others", "zh": "其他"}
            shown.append({**r, "value_fig": fig})
        return hbar(shown, label_w=230)

    act, dflt = f["determination/actual_chargeable_tco2e"], f["determination/default_chargeable_tco2e"]
    total = (act or 0.0) + (dflt or 0.0)
    return {
        "products": ranking(m["products"]),
        "importers": ranking(m["importers"]),
        "sources": hbar(src, width=520, label_w=200),
        "transport": hbar(transport, width=520, label_w=200),
        "months": vbar(m["months"], f),
        "shares": share_lines(m["sites"], m["year"], f),
        "split": {
            "actual_w": 100.0 * act / total if total else 0.0,
            "default_w": 100.0 * dflt / total if total else 0.0,
        },
    }


def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent),
        autoescape=True,  # every value from input files is escaped; the template never marks input safe
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals |= {"fmt": format_figure, "raw": raw_value, "palette": PALETTE}
    return env


def render(doc: ReportDoc) -> str:
    return (
        _env()
        .get_template(TEMPLATE)
        .render(doc=doc, m=doc.model, f=doc.figures, charts=_model(doc), site_colours=SITE_COLOURS)
    )


def write(doc: ReportDoc, out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / file_name(doc)
    path.write_bytes(render(doc).encode("utf-8"))
    return [path]


_EXTERNAL = re.compile(
    r"""(?:\b(?:src|href)\s*=\s*["']?\s*(?:https?:)?//)|@import|url\(\s*["']?\s*(?:https?:)?//""", re.I
)


def inspect(doc: ReportDoc, path: Path) -> list[str]:
    """What is wrong with a written page: it must parse, load nothing from outside, mark the key figures,
    and every `data-figure` must show the doc's value (full precision in `data-value`, rounded in the text)."""
    if not path.is_file():
        return [f"{path.name} was not written"]
    text = path.read_text(encoding="utf-8")
    try:
        root = lxml.html.document_fromstring(text)
    except (lxml.etree.ParserError, ValueError) as e:
        return [f"{path.name} does not parse as HTML: {e}"]
    problems = []
    if _EXTERNAL.search(text):
        problems.append(f"{path.name} refers to an external resource (http(s) src/href, url() or @import)")
    for el in root.iter("script", "link", "iframe", "object", "embed", "img"):
        problems.append(f"{path.name} has a <{el.tag}> element (the page needs none)")
    marked = root.xpath("//*[@data-figure]")
    for el in marked:
        name = el.get("data-figure")
        if name not in doc.figures:
            problems.append(f"the page shows {name!r}, which is not a figure of the doc")
            continue
        want = doc.figures[name]
        if el.get("data-value") != raw_value(want):
            problems.append(f"{name} is {el.get('data-value')!r} on the page but {want!r} in the doc")
        if el.text_content().strip() != format_figure(name, want).strip():
            problems.append(f"{name} reads {el.text_content().strip()!r} on the page")
    shown = {el.get("data-figure") for el in marked}
    problems += [
        f"key figure {k} is not on the page" for k in KEY_FIGURES if k in doc.figures and k not in shown
    ]
    return problems
