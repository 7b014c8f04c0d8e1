"""Ledger sync (admin): POST JSON rows or a CSV file per contract table; read pages of it back (finance, admin).

Routes are made per table from the contract, so each is documented with that table's columns.
"""

import datetime as dt
import logging
import os
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Body, File, HTTPException, Query, Request, Response, UploadFile, status
from sqlalchemy import select, tuple_

from features.ledger.contract import TABLES
from features.ledger.validate import ORDER
from serving.api.deps import (
    LEDGER_REVISION_DOC,
    FinanceActor,
    SessionDep,
    SettingsDep,
    ThrottledAdminActor,
    build_own_write,
)
from serving.api.schemas.common import ProblemPublic, Unprocessable, cursor_query, decode_cursor, encode_cursor
from serving.api.schemas.ledger import (
    PAGE,
    ROW_IN,
    LedgerBatchIn,
    LedgerSyncPublic,
    SyncResultPublic,
    TableCountsPublic,
)
from serving.store.audit import Actor
from serving.store.ledger.io import contract_columns
from serving.store.ledger.rows import MAX_BATCH_ROWS, csv_frame, records_frame
from serving.store.ledger.sync import SyncResult, sync_batch, sync_tables
from serving.store.models import LEDGER_MODELS, TABLE_KEYS
from serving.store.schema.ledger import EXTRA_COLUMN

router = APIRouter(prefix="/ledger", tags=["ledger"])
log = logging.getLogger("payrisk.serving.ledger")
MAX_CSV_BYTES = 100 * 1024 * 1024
REJECTED: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The batch was stored; the ledger view the other routes read is rebuilt before this answer, "
        "so what the caller reads next includes it",
        "headers": LEDGER_REVISION_DOC,
    },
    422: {"model": Unprocessable, "description": "The batch was rejected whole; every bad row is listed."},
}


def _result(result: SyncResult) -> SyncResultPublic:
    (counts,) = result.tables
    return SyncResultPublic(
        **asdict(counts), revision=result.revision, warnings=[ProblemPublic.of(p) for p in result.warnings]
    )


def _file_name(upload: UploadFile, table: str) -> str:
    name = os.path.basename((upload.filename or "").replace("\\", "/"))
    name = "".join(ch for ch in name if ch.isprintable() and ch != "\x00")
    name = name.encode("utf-8", "ignore").decode("utf-8")[:200]
    return name or f"{table}.csv"


def _sync(
    table: str, raw, file_name: str, actor: Actor, session, settings, request: Request, response: Response
) -> SyncResultPublic:
    if len(raw) > MAX_BATCH_ROWS:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE, f"at most {MAX_BATCH_ROWS:,} rows per batch; split the file"
        )
    result = sync_batch(session, table, raw, file_name, actor, base_currency=settings.base_currency)
    build_own_write(request, response, session, result.revision)
    return _result(result)


@router.post(
    "",
    response_model=LedgerSyncPublic,
    responses=REJECTED,
    summary="Upsert rows of several tables at once (validated together, one transaction)",
)
def sync_ledger(
    actor: ThrottledAdminActor,
    session: SessionDep,
    settings: SettingsDep,
    batch: LedgerBatchIn,
    request: Request,
    response: Response,
) -> LedgerSyncPublic:
    given = {name: rows for name in ORDER if (rows := getattr(batch, name)) is not None}
    if sum(len(rows) for rows in given.values()) > MAX_BATCH_ROWS:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, f"at most {MAX_BATCH_ROWS:,} rows per batch")
    frames = {
        name: records_frame([row.model_dump(exclude_unset=True) for row in rows], name) for name, rows in given.items()
    }
    result = sync_tables(session, frames, {name: name for name in frames}, actor, base_currency=settings.base_currency)
    build_own_write(request, response, session, result.revision)
    return LedgerSyncPublic(
        tables=[TableCountsPublic(**asdict(c)) for c in result.tables],
        revision=result.revision,
        warnings=[ProblemPublic.of(p) for p in result.warnings],
    )


def _add_routes(table: str) -> None:
    row_in, page = ROW_IN[table], PAGE[table]
    key_columns = TABLE_KEYS[table]
    model_table = LEDGER_MODELS[table].__table__
    key = ", ".join(key_columns)

    def sync_rows(
        actor: ThrottledAdminActor,
        session: SessionDep,
        settings: SettingsDep,
        # row_in is a pydantic model made with create_model per table: mypy sees a variable, not a type, and so
        # knows nothing of its instances either
        rows: Annotated[list[row_in], Body(max_length=MAX_BATCH_ROWS)],  # type: ignore[valid-type]
        request: Request,
        response: Response,
    ) -> SyncResultPublic:
        records = [row.model_dump(exclude_unset=True) for row in rows]  # type: ignore[attr-defined]
        return _sync(table, records_frame(records, table), table, actor, session, settings, request, response)

    def sync_csv(
        actor: ThrottledAdminActor,
        session: SessionDep,
        settings: SettingsDep,
        file: Annotated[UploadFile, File(description=f"{table}.csv: a header row, then one row per record")],
        request: Request,
        response: Response,
    ) -> SyncResultPublic:
        data = file.file.read(MAX_CSV_BYTES + 1)
        if len(data) > MAX_CSV_BYTES:
            raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, f"at most {MAX_CSV_BYTES:,} bytes per file")
        name = _file_name(file, table)
        return _sync(table, csv_frame(data, name), name, actor, session, settings, request, response)

    def read_rows(
        actor: FinanceActor,
        session: SessionDep,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        cursor: Annotated[str | None, cursor_query(1000)] = None,
    ) -> page:  # type: ignore[valid-type]  # made with create_model, like row_in
        statement = select(*(model_table.c[c] for c in [*contract_columns(table), EXTRA_COLUMN]))
        statement = statement.order_by(*(model_table.c[k] for k in key_columns)).limit(limit + 1)
        if cursor:
            try:
                values = decode_cursor(cursor)
                if len(values) != len(key_columns):
                    raise ValueError("not a valid cursor for this table")
                if table == "fx_rates":
                    values[0] = dt.date.fromisoformat(str(values[0]))
            except ValueError as exc:
                raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
            statement = statement.where(tuple_(*(model_table.c[k] for k in key_columns)) > tuple_(*values))
        rows = [dict(r._mapping) for r in session.execute(statement)]
        more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = None
        if more:
            next_cursor = encode_cursor([str(rows[-1][k]) if table == "fx_rates" else rows[-1][k] for k in key_columns])
        return page(
            rows=rows,
            next_cursor=next_cursor,
        )

    router.add_api_route(
        f"/{table}",
        sync_rows,
        methods=["POST"],
        response_model=SyncResultPublic,
        responses=REJECTED,
        name=f"sync_{table}",
        summary=f"Upsert {table} rows (JSON), by {key}",
        description=f"Validate the rows with the rules of `payrisk validate`, together with the stored rows they "
        f"touch, and upsert them by {key} in one transaction, or reject the batch whole (422).",
    )
    router.add_api_route(
        f"/{table}/csv",
        sync_csv,
        methods=["POST"],
        response_model=SyncResultPublic,
        responses=REJECTED,
        name=f"sync_{table}_csv",
        summary=f"Upsert {table} rows from a CSV file, by {key}",
        description="Same as the JSON form; a malformed file is rejected with the rows that cannot be read.",
    )
    router.add_api_route(
        f"/{table}",
        read_rows,
        methods=["GET"],
        response_model=page,
        name=f"read_{table}",
        summary=f"Read {table} rows, in {key} order",
    )


for _table in ORDER:
    _add_routes(_table)
assert set(ORDER) == set(TABLES)
