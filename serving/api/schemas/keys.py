"""API key models: the key itself appears only in the response that creates it."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from serving.api.schemas.common import Identifier

Role = Literal["collector", "finance", "data_scientist", "admin"]


class KeyCreate(BaseModel):
    name: Identifier = Field(description="Who or what uses the key, e.g. 'jane (collections)'.")
    role: Role
    collector_id: Identifier | None = Field(None, description="Required for (and only for) collector keys.")


class KeyPublic(BaseModel):
    id: int
    name: str
    role: Role
    collector_id: str | None
    key_prefix: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None


class KeyCreated(KeyPublic):
    key: str = Field(description="The API key. Shown only now: store it; only its hash is kept.")
