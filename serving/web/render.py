"""The templates and the filters that format numbers for people: thousands separators, currency codes, dates,
percentages. Every page goes through `page`, which adds the signed-in user and the CSRF token of its forms."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import pandas as pd
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from serving.store.users import SignedIn

TEMPLATES = Path(__file__).parent / "templates"
templates = Jinja2Templates(directory=str(TEMPLATES))


def _missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def money(value: Any, currency: str | None = None, decimals: int = 2) -> str:
    """1234567.8 -> '1,234,567.80 USD' (an em dash when unknown)."""
    if _missing(value):
        return "—"
    text = f"{float(value):,.{decimals}f}"
    return f"{text} {currency}" if currency else text


def number(value: Any, decimals: int = 0) -> str:
    if _missing(value) or (isinstance(value, float) and math.isinf(value)):
        return "—"
    return f"{float(value):,.{decimals}f}"


def percent(value: Any, decimals: int = 1) -> str:
    """0.1234 -> '12.3 %'."""
    if _missing(value):
        return "—"
    return f"{float(value) * 100:.{decimals}f} %"


def day(value: Any) -> str:
    """A date as '12 Mar 2026'."""
    if _missing(value):
        return "—"
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    if isinstance(value, pd.Timestamp):
        value = value.date()
    if isinstance(value, dt.datetime):
        return f"{value:%d %b %Y %H:%M} UTC"
    return f"{value:%d %b %Y}"


templates.env.filters.update(money=money, number=number, percent=percent, day=day)


def page(request: Request, name: str, user: SignedIn | None, status_code: int = 200, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(
        request,
        name,
        {"user": user, "csrf_token": user.csrf_token if user else None, **context},
        status_code=status_code,
    )
