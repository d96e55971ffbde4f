"""What the admin pages say after a change of clinic data that touched booked sessions.

The refusal itself (the sessions a change would break, and the two ways on) is caught by
``forms.fields.saved`` and shown by ``templates/admin/_impact.html``.
"""

from __future__ import annotations

from typing import Any

AFTER = {
    "replan": " The sessions it touched were re-planned, each with its pair.",
    "flag": " Any session it breaks is listed under Needs attention for the front desk.",
}


def saved_message(text: str, form: Any) -> str:
    """``text`` plus what became of the sessions the change touched, by the admin's choice."""
    return text + AFTER.get(form.on_conflict.data or "", "")
