"""API keys (admin): create (the key is shown once), list, revoke."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, status

from serving.api.deps import AdminActor, SessionDep
from serving.api.schemas.common import Message, Unprocessable
from serving.api.schemas.keys import KeyCreate, KeyCreated, KeyPublic
from serving.store.engine import write_lock
from serving.store.keys import KeyRequestError, LastAdminKey, create_key, list_keys, public_key, revoke_key

router = APIRouter(prefix="/keys", tags=["keys"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=KeyCreated,
    summary="Create an API key",
    responses={422: {"model": Unprocessable}},
)
def create(actor: AdminActor, session: SessionDep, body: KeyCreate) -> KeyCreated:
    with write_lock(session):
        try:
            row, key = create_key(session, body.role, body.name, actor, collector_id=body.collector_id)
        except KeyRequestError as exc:
            session.rollback()
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
        session.commit()
    return KeyCreated(**public_key(row), key=key)


@router.get("", response_model=list[KeyPublic], summary="List API keys (never the keys themselves)")
def read_keys(actor: AdminActor, session: SessionDep) -> list[KeyPublic]:
    return [KeyPublic(**public_key(row)) for row in list_keys(session)]


@router.delete(
    "/{key_id}",
    response_model=KeyPublic,
    summary="Revoke an API key (not the last active admin key: 409)",
    responses={404: {"model": Message}, 409: {"model": Message}},
)
def revoke(actor: AdminActor, session: SessionDep, key_id: Annotated[int, Path(ge=1, le=2**31 - 1)]) -> KeyPublic:
    with write_lock(session):
        try:
            row = revoke_key(session, key_id, actor)
        except LastAdminKey as exc:
            session.rollback()
            raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
        if row is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no API key {key_id}")
        session.commit()
    return KeyPublic(**public_key(row))
