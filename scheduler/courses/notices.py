"""What a complete plan could not honour, said on success too: a preferred therapist or
clinician it planned without (working elsewhere, or not free), and a closure that pushed the
course's start."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Closure, Location, StaffMember, StaffPart, WorkingHours
from ..planning import Plan, Preferences
from ..planning.reasons import Reason, either, noun, numbered

#: A closure that ended this long before the first session is not what delayed it.
CLOSURE_REACH = dt.timedelta(days=7)


def plan_notices(
    session: Session,
    *,
    location_id: int,
    preferences: Preferences,
    earliest: dt.datetime,
    plan: Plan,
) -> list[Reason]:
    new = [a for a in plan.appointments if not a.fixed]
    if not new:
        return []
    found: list[Reason] = []
    wanted = (
        (preferences.therapist_id, (StaffPart.THERAPIST,), "therapist_id"),
        (
            preferences.clinician_id,
            (StaffPart.ADMINISTERING_CLINICIAN, StaffPart.EVALUATING_CLINICIAN),
            "clinician_id",
        ),
    )
    for staff_id, parts, field in wanted:
        if staff_id is not None:
            notice = _preferred(session, location_id, plan, staff_id, parts, field)
            if notice is not None:
                found.append(notice)
    closure = _closure(session, location_id, earliest, plan)
    if closure is not None:
        found.append(closure)
    return found


def _preferred(
    session: Session,
    location_id: int,
    plan: Plan,
    staff_id: int,
    parts: tuple[StaffPart, ...],
    field: str,
) -> Reason | None:
    sessions = [a for a in plan.appointments if not a.fixed and any(p in parts for _, p in a.staff)]
    without = [a for a in sessions if all(s != staff_id for s, _ in a.staff)]
    if not without:
        return None
    member = session.get(StaffMember, staff_id)
    if member is None:
        return None
    used_ids = {s for a in without for s, p in a.staff if p in parts}
    used = sorted(
        session.scalars(select(StaffMember.name).where(StaffMember.id.in_(used_ids))).all()
    )
    places = sorted(
        set(
            session.scalars(
                select(Location.name)
                .join(WorkingHours, WorkingHours.location_id == Location.id)
                .where(WorkingHours.staff_id == staff_id)
            )
        )
    )
    here = session.get(Location, location_id)
    if here is None or here.name not in places:
        where = f"works only at {either(places)}" if places else "has no working hours"
        return Reason(
            "preferred_staff_elsewhere",
            "",
            f"{member.name} {where}; planned with {either(used)}.",
            None,
            {field: None},
        )
    elements = {e.key: e for e in plan.shape.elements}
    if len(without) == 1:
        which = numbered(elements[without[0].key])
    else:
        count = "any" if len(without) == len(sessions) else str(len(without))
        which = f"{count} of the {len(sessions)} {noun(elements[without[0].key])}s"
    return Reason(
        "preferred_staff_busy",
        without[0].key,
        f"{member.name} was not free for {which}; planned with {either(used)} there.",
    )


def _closure(
    session: Session, location_id: int, earliest: dt.datetime, plan: Plan
) -> Reason | None:
    tz = ZoneInfo(plan.timezone)
    first = min(a.starts_at for a in plan.appointments if not a.fixed).astimezone(tz).date()
    asked = earliest.astimezone(tz).date()
    if first <= asked:
        return None
    closures = session.scalars(
        select(Closure)
        .where(
            Closure.location_id == location_id,
            Closure.starts_on < first,
            Closure.ends_on >= max(asked, first - CLOSURE_REACH),
        )
        .order_by(Closure.starts_on)
    ).all()
    if not closures:
        return None
    start = min(c.starts_on for c in closures)
    end = max(c.ends_on for c in closures)
    return Reason(
        "closure",
        "",
        f"Closed {_day(start)} to {_day(end)}; the course starts {_day(first)}.",
    )


def _day(day: dt.date) -> str:
    return f"{day.day} {day:%b %Y}"
