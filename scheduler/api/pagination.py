"""Paging a SQLAlchemy query: ``?page=&page_size=`` in, an ``X-Pagination`` header out.

The header carries JSON text (total, total_pages, first_page, last_page, page, previous_page,
next_page), like flask-smorest's own pagination, and is documented as the string it is.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Select, func, select

from ..db import db
from .schemas.common import PageQuerySchema

__all__ = ["PAGINATION_HEADERS", "PageQuerySchema", "page_of"]

PAGINATION_HEADERS = {
    "X-Pagination": {
        "description": "Pagination metadata as JSON text: total, total_pages, first_page, "
        "last_page, page, previous_page, next_page",
        "schema": {"type": "string"},
        "example": '{"total": 120, "total_pages": 3, "first_page": 1, "last_page": 3, '
        '"page": 1, "next_page": 2}',
    }
}


def page_of(statement: Select[Any], query: dict[str, Any]) -> tuple[list[Any], int, dict[str, str]]:
    """One page of ``statement``'s rows, the status and the X-Pagination header."""
    page, size = query["page"], query["page_size"]
    counted = select(func.count()).select_from(statement.order_by(None).subquery())
    total = int(db.session.scalar(counted) or 0)
    first = (page - 1) * size
    rows = (
        list(db.session.scalars(statement.offset(first).limit(size)).unique())
        if first < total
        else []
    )
    last_page = max(1, -(-total // size))
    meta: dict[str, int] = {
        "total": total,
        "total_pages": -(-total // size),
        "first_page": 1,
        "last_page": last_page,
        "page": page,
    }
    if 1 < page <= last_page + 1:
        meta["previous_page"] = page - 1
    if page < last_page:
        meta["next_page"] = page + 1
    return rows, 200, {"X-Pagination": json.dumps(meta)}
