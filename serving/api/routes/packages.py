"""The monthly collections package (finance): its tables as JSON, and the same as an Excel workbook, PDF or HTML."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Response, status

from serving.api.deps import LEDGER_REVISION_DOC, FinanceActor, LedgerDep, SessionDep
from serving.api.schemas.common import Message, Unprocessable
from serving.api.schemas.packages import PackagePublic
from serving.services.close import CloseError, check_period_over
from serving.services.package import package_figures
from serving.services.package_inputs import gather_inputs
from serving.services.package_render import PackageRenderError, render_html, render_pdf, render_xlsx

router = APIRouter(prefix="/packages", tags=["packages"])
Period = Annotated[str, Path(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="The month, YYYY-MM")]
NOT_OVER = {"model": Unprocessable, "description": "The month is not over in the ledger yet"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _figures(session, ledger, period: str) -> dict:
    try:
        check_period_over(period, ledger.known_until)
    except CloseError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    return package_figures(ledger, period, gather_inputs(session, ledger, period))


@router.get(
    "/{period}",
    response_model=PackagePublic,
    summary="The monthly collections package's tables",
    responses={200: {"description": "The tables", "headers": LEDGER_REVISION_DOC}, 422: NOT_OVER},
)
def read_package(actor: FinanceActor, session: SessionDep, ledger: LedgerDep, period: Period) -> PackagePublic:
    return PackagePublic(**_figures(session, ledger, period))


@router.get(
    "/{period}/workbook",
    response_class=Response,
    summary="The package as an Excel workbook (one sheet per table)",
    responses={200: {"content": {XLSX: {}}, "description": "The workbook"}, 422: NOT_OVER},
)
def read_workbook(actor: FinanceActor, session: SessionDep, ledger: LedgerDep, period: Period) -> Response:
    data = render_xlsx(_figures(session, ledger, period))
    disposition = f'attachment; filename="package-{period}.xlsx"'
    return Response(data, media_type=XLSX, headers={"Content-Disposition": disposition})


@router.get(
    "/{period}/pdf",
    response_class=Response,
    summary="The package as PDF (charts as images; WeasyPrint)",
    responses={
        200: {"content": {"application/pdf": {}}, "description": "The PDF"},
        422: NOT_OVER,
        503: {"model": Message, "description": "WeasyPrint (or Pango) is not installed on the server"},
    },
)
def read_pdf(actor: FinanceActor, session: SessionDep, ledger: LedgerDep, period: Period) -> Response:
    html = render_html(_figures(session, ledger, period))
    try:
        data = render_pdf(html)
    except PackageRenderError as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from exc
    disposition = f'attachment; filename="package-{period}.pdf"'
    return Response(data, media_type="application/pdf", headers={"Content-Disposition": disposition})


@router.get(
    "/{period}/html",
    response_class=Response,
    summary="The package as one HTML page",
    responses={200: {"content": {"text/html": {}}, "description": "The page"}, 422: NOT_OVER},
)
def read_html(actor: FinanceActor, session: SessionDep, ledger: LedgerDep, period: Period) -> Response:
    return Response(render_html(_figures(session, ledger, period)), media_type="text/html")
