"""Paging a SQLAlchemy query with flask-smorest's ``?page=&page_size=`` and X-Pagination."""

from __future__ import annotations

from typing import Any

from flask_smorest import Page
from sqlalchemy import Select, func, select

from ..db import db


class Pager(Page):
    """Counts the whole query once, then loads one page of it."""

    collection: Select[Any]

    @property
    def items(self) -> list[Any]:
        first = self.page_params.first_item
        # Past the end: no query (a huge page number would not fit the database's OFFSET).
        if first >= (self.page_params.item_count or 0):
            return []
        statement = self.collection.offset(first).limit(self.page_params.page_size)
        return list(db.session.scalars(statement).unique())

    @property
    def item_count(self) -> int:
        counted = select(func.count()).select_from(self.collection.order_by(None).subquery())
        return int(db.session.scalar(counted) or 0)
