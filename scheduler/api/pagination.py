"""Paging a SQLAlchemy query with flask-smorest's ``@blp.paginate``: ``?page=&page_size=`` in,
an ``X-Pagination`` header out.

A paged view returns its ``select()``; :class:`SelectPage` counts it in the database and reads
only the page's rows. flask-smorest validates the two parameters (422 naming them), documents
them, and writes the header: JSON text with total and total_pages, and, when the page exists,
first_page, last_page, page, previous_page and next_page.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from flask_smorest import Page
from sqlalchemy import Select, func, select

from ..db import db
from .schemas.common import MAX_PAGE_SIZE, PageQuerySchema

__all__ = ["PAGINATION_HEADER", "PAGING", "PageQuerySchema", "SelectPage"]

#: ``@blp.paginate(SelectPage, **PAGING)``: the same page sizes on every listing.
PAGING: dict[str, int] = {"page_size": 50, "max_page_size": MAX_PAGE_SIZE}

#: The header's documentation. flask-smorest documents it as an object, which no header value
#: can be (schemathesis holds answers to the document): it is JSON text, documented as such.
PAGINATION_HEADER: dict[str, Any] = {
    "description": "Pagination metadata as JSON text: total, total_pages and, when the page "
    "exists, first_page, last_page, page, previous_page, next_page",
    "schema": {"type": "string"},
    "example": '{"total": 120, "total_pages": 3, "first_page": 1, "last_page": 3, '
    '"page": 1, "next_page": 2}',
}


class SelectPage(Page):
    """One page of a ``select()``'s rows, and how many rows there are in all."""

    collection: Select[Any]

    @cached_property
    def item_count(self) -> int:
        counted = select(func.count()).select_from(self.collection.order_by(None).subquery())
        return int(db.session.scalar(counted) or 0)

    @property
    def items(self) -> list[Any]:
        first, size = self.page_params.first_item, self.page_params.page_size
        # A page past the end is not read: its offset may not even fit the database's integer.
        if first >= self.item_count:
            return []
        return list(db.session.scalars(self.collection.offset(first).limit(size)).unique())
