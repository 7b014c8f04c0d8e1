"""Response models generated from domain dataclasses: same fields in order, dates as days, nested models, docs."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pandas as pd
import pytest
from pydantic import ValidationError

from serving.api.schemas.from_dataclass import attribute_docs, public_model


@dataclasses.dataclass
class Child:
    """A child row."""

    day: pd.Timestamp
    """When it happened."""
    amount: float | None


@dataclasses.dataclass
class Parent:
    name: str
    children: list[Child]
    by_bucket: dict[str, float]
    last: pd.Timestamp | None = None
    """The last day, if any."""


def test_fields_in_order_with_dates_as_days_and_nested_models():
    model = public_model(Parent)
    assert list(model.model_fields) == [f.name for f in dataclasses.fields(Parent)]
    value = model(
        name="P",
        children=[{"day": dt.date(2024, 8, 30), "amount": None}],
        by_bucket={"1-30": 2.5},
        last=pd.Timestamp("2024-08-30"),
    )
    dumped = value.model_dump(mode="json")
    assert dumped == {
        "name": "P",
        "children": [{"day": "2024-08-30", "amount": None}],
        "by_bucket": {"1-30": 2.5},
        "last": "2024-08-30",
    }
    assert type(value.children[0]) is public_model(Child)  # one model per dataclass, reused when nested


def test_a_timestamp_with_a_time_is_not_a_day():
    with pytest.raises(ValidationError):
        public_model(Child)(day=pd.Timestamp("2024-08-30 13:45"), amount=1.0)


def test_every_field_is_required_and_documented_from_the_dataclass():
    model = public_model(Child)
    assert all(field.is_required() for field in model.model_fields.values())
    assert model.model_fields["day"].description == "When it happened."
    assert model.model_fields["amount"].description is None
    assert model.__doc__ == "A child row."
    assert public_model(Parent).__doc__ is None  # not the signature dataclasses write when there is no docstring
    assert attribute_docs(Parent) == {"last": "The last day, if any."}


def test_only_dataclasses():
    with pytest.raises(TypeError, match="not a dataclass"):
        public_model(dict)
