"""Reminders: policy, scheduling rows with appointment changes, rendering, channels, the worker.

Import the submodules directly; this package imports nothing, so that
``scheduler.booking.changes`` can register the listener without an import cycle.
"""
