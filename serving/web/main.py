"""The web app's routers, static files and error pages, mounted on the service app by `install` (next to /v1)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from serving.web import routes_admin, routes_auth, routes_collector, routes_finance, routes_science
from serving.web.auth import PageForbidden, PageNotFound, SignInRequired, signed_in
from serving.web.render import page
from serving.web.views import NoLedger

STATIC = Path(__file__).parent / "static"


async def _sign_in(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInRequired)
    return RedirectResponse(f"/login?next={quote(exc.next_path, safe='/')}", status_code=303)


async def _forbidden(request: Request, exc: Exception) -> Response:
    user = getattr(request.state, "web_user", None)
    return page(request, "error.html", user, 403, heading="Not allowed", message=str(exc))


async def _not_found(request: Request, exc: Exception) -> Response:
    user = getattr(request.state, "web_user", None)
    return page(request, "error.html", user, 404, heading="Not found", message=str(exc))


async def _no_ledger(request: Request, exc: Exception) -> Response:
    user = signed_in(request)
    message = f"The store holds no usable ledger yet ({exc}). An admin can upload one under Ledger upload."
    return page(request, "error.html", user, 409, heading="No ledger yet", message=message)


def install(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    for module in (routes_auth, routes_collector, routes_finance, routes_science, routes_admin):
        app.include_router(module.router)
    app.add_exception_handler(SignInRequired, _sign_in)
    app.add_exception_handler(PageForbidden, _forbidden)
    app.add_exception_handler(PageNotFound, _not_found)
    app.add_exception_handler(NoLedger, _no_ledger)
