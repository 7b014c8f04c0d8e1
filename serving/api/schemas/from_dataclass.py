"""Response models generated from the domain dataclasses they publish, so that the two cannot drift.

`public_model(Account)` is a pydantic model with the dataclass's fields in order: `pd.Timestamp` becomes `date`
(the API speaks in days), a nested dataclass becomes its own public model, and each field's description is the
attribute docstring written under it in the dataclass.
"""

from __future__ import annotations

import ast
import dataclasses
import datetime as dt
import inspect
import itertools
import textwrap
import types
import typing
from typing import Any

import pandas as pd
from pydantic import BaseModel, Field, create_model

_MODELS: dict[type, type[BaseModel]] = {}


def attribute_docs(cls: type) -> dict[str, str]:
    """The docstring written under each annotated attribute of a class body (empty where there is none)."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    except (OSError, TypeError):
        return {}
    body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
    docs = {}
    for node, following in itertools.pairwise(body):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            docs[node.target.id] = " ".join(following.value.value.split())
    return docs


def _public_type(annotation: Any) -> Any:
    """A dataclass field's type as the API shows it."""
    if annotation is pd.Timestamp:
        return dt.date
    if dataclasses.is_dataclass(annotation) and isinstance(annotation, type):
        return public_model(annotation)
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (types.UnionType, typing.Union):
        mapped = [_public_type(arg) for arg in args]
        union = mapped[0]
        for arg in mapped[1:]:
            union = union | arg
        return union
    if origin is list:
        return list[_public_type(args[0])]  # type: ignore[misc]  # a type built at run time
    if origin is dict:
        return dict[_public_type(args[0]), _public_type(args[1])]  # type: ignore[misc]
    return annotation


def public_model(cls: type, name: str | None = None) -> type[BaseModel]:
    """The response model of dataclass `cls` (cached: one model per dataclass), named `<cls>Public` by default."""
    if cls in _MODELS:
        return _MODELS[cls]
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls!r} is not a dataclass")
    hints = typing.get_type_hints(cls)
    docs = attribute_docs(cls)
    fields: dict[str, Any] = {
        f.name: (_public_type(hints[f.name]), Field(..., description=docs.get(f.name) or None))
        for f in dataclasses.fields(cls)
    }
    model = create_model(name or f"{cls.__name__}Public", **fields)
    own_doc = cls.__dict__.get("__doc__") or ""
    model.__doc__ = None if own_doc.startswith(f"{cls.__name__}(") else inspect.cleandoc(own_doc)  # not the signature
    _MODELS[cls] = model
    return model
