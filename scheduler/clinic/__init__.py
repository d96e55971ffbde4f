"""Keeping the clinic's records: locations, rooms, staff and patients, created, changed and
removed with their rules and an audit entry in the caller's transaction.

Functions take the session, an ``Action`` and plain values (already type-checked by the
adapter); they raise ``scheduler.errors`` exceptions and never commit.
"""
