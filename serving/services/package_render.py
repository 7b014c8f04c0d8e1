"""The monthly collections package as files: HTML (Jinja2), PDF (WeasyPrint, charts as PNG images from matplotlib)
and an Excel workbook (openpyxl: one sheet per table, the same rows as the API's JSON).

WeasyPrint needs Pango (Debian: libpango-1.0-0, libpangoft2-1.0-0); without it `render_pdf` raises PackageRenderError
saying so, and `write_package` writes the HTML and the workbook and reports the PDF as not written.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path

from jinja2 import Environment, select_autoescape

from features.errors import PayriskError
from serving.services.package import TABLE_TITLES

CHARTS = ("dso", "aging", "collection")


class PackageRenderError(PayriskError):
    """A package file cannot be written (e.g. WeasyPrint or its system libraries are missing)."""


def charts(figures: dict) -> dict[str, bytes]:
    """PNG charts of the trend: DSO (standard, countback), aging by bucket (stacked), CEI and past-due %."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    trend = figures["trend"]
    months = [row["month"] for row in trend]
    out: dict[str, bytes] = {}

    def save(fig) -> bytes:
        buffer = io.BytesIO()
        fig.tight_layout()
        fig.savefig(buffer, format="png", dpi=110)
        plt.close(fig)
        return buffer.getvalue()

    fig, ax = plt.subplots(figsize=(8, 3))
    for key, label in (("dso_standard", "DSO standard"), ("dso_countback", "DSO countback")):
        ax.plot(months, [row[key] if row[key] is not None else float("nan") for row in trend], marker="o", label=label)
    ax.set_ylabel("days")
    ax.legend()
    ax.tick_params(axis="x", rotation=45)
    out["dso"] = save(fig)

    fig, ax = plt.subplots(figsize=(8, 3))
    bottom = [0.0] * len(trend)
    for bucket in ("current", "1-30", "31-60", "61-90", "90+"):
        values = [row[f"aging_{bucket}"] or 0.0 for row in trend]
        ax.bar(months, values, bottom=bottom, label=bucket)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.set_ylabel(figures["base_currency"])
    ax.legend(fontsize=7)
    ax.tick_params(axis="x", rotation=45)
    out["aging"] = save(fig)

    fig, ax = plt.subplots(figsize=(8, 3))
    for key, label in (("cei_percent", "CEI %"), ("past_due_percent", "past-due %")):
        ax.plot(months, [row[key] if row[key] is not None else float("nan") for row in trend], marker="o", label=label)
    ax.set_ylabel("percent")
    ax.legend()
    ax.tick_params(axis="x", rotation=45)
    out["collection"] = save(fig)
    return out


TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Collections package {{ f.period }}</title>
<style>
 body { font-family: sans-serif; font-size: 10pt; margin: 1.5em; }
 table { border-collapse: collapse; margin-bottom: 1.2em; font-size: 6.5pt; width: 100%; table-layout: auto; }
 th, td { border: 1px solid #bbb; padding: 1px 3px; text-align: right; overflow-wrap: anywhere; }
 th { background: #eee; } td.text { text-align: left; }
 img { width: 12.5cm; margin-right: 0.5cm; }
 @page { size: A4 landscape; margin: 1.2cm; }
</style></head><body>
<h1>Monthly collections package: {{ f.period }}</h1>
<p>As of {{ f.period_end }}; amounts in {{ f.base_currency }} at each month end's closing rate.</p>
{% for name in charts %}<img alt="{{ name }} chart" src="data:image/png;base64,{{ charts[name] }}">{% endfor %}
{% for key, title in titles.items() %}
<h2>{{ title }}</h2>
{% set rows = f[key] %}
{% if rows %}
<table><tr>{% for column in rows[0] %}<th>{{ column }}</th>{% endfor %}</tr>
{% for row in rows %}<tr>{% for column, value in row.items() %}
<td{% if value is string %} class="text"{% endif %}>{{ "-" if value is none else value }}</td>{% endfor %}</tr>
{% endfor %}</table>
{% else %}<p>Not available (nothing stored for it).</p>{% endif %}
{% endfor %}
</body></html>
"""


def render_html(figures: dict, images: dict[str, bytes] | None = None) -> str:
    """The package as one self-contained HTML page (charts inlined as PNG data URIs)."""
    images = charts(figures) if images is None else images
    environment = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    encoded = {name: base64.b64encode(data).decode("ascii") for name, data in images.items()}
    return environment.from_string(TEMPLATE).render(f=figures, charts=encoded, titles=TABLE_TITLES)


def render_pdf(html: str) -> bytes:
    """The HTML page as PDF with WeasyPrint. Raises PackageRenderError when WeasyPrint cannot run here."""
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as exc:  # OSError: Pango (a system library) is missing
        raise PackageRenderError(
            f"the PDF needs WeasyPrint and Pango ({type(exc).__name__}: {exc}); install them "
            "(pip install weasyprint; Debian: apt-get install libpango-1.0-0 libpangoft2-1.0-0)"
        ) from exc
    return HTML(string=html).write_pdf()


def render_xlsx(figures: dict) -> bytes:
    """The package as an Excel workbook: a `package` sheet (period, currency) and one sheet per table, the header
    row the JSON keys and the rows the JSON values (numbers as numbers, missing as empty)."""
    from openpyxl import Workbook

    book = Workbook()
    about = book.active
    about.title = "package"
    for key in ("period", "period_end", "base_currency"):
        about.append([key, figures[key]])
    for key, title in TABLE_TITLES.items():
        sheet = book.create_sheet(key)
        rows = figures[key]
        sheet.append([title])
        if rows:
            sheet.append(list(rows[0]))
            for row in rows:
                sheet.append(list(row.values()))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def read_xlsx(data: bytes) -> dict:
    """A package workbook back into the figures' tables (the inverse of render_xlsx, for checking)."""
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data), read_only=True)
    out: dict = {str(k): v for k, v in book["package"].iter_rows(values_only=True)}
    for key in TABLE_TITLES:
        rows = list(book[key].iter_rows(values_only=True))[1:]
        header = rows[0] if rows else ()
        out[key] = [dict(zip(header, row, strict=True)) for row in rows[1:]]
    return out


def write_package(figures: dict, directory: Path) -> dict[str, Path | str]:
    """Write package-<period>.html, .xlsx and .pdf into `directory`; the PDF's entry is the reason when it could
    not be written."""
    directory.mkdir(parents=True, exist_ok=True)
    stem = f"package-{figures['period']}"
    html = render_html(figures)
    written: dict[str, Path | str] = {}
    (directory / f"{stem}.html").write_text(html, encoding="utf-8")
    written["html"] = directory / f"{stem}.html"
    (directory / f"{stem}.xlsx").write_bytes(render_xlsx(figures))
    written["xlsx"] = directory / f"{stem}.xlsx"
    try:
        (directory / f"{stem}.pdf").write_bytes(render_pdf(html))
        written["pdf"] = directory / f"{stem}.pdf"
    except PackageRenderError as exc:
        written["pdf"] = str(exc)
    return written
