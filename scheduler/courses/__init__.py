"""Treatment courses: planning and booking a protocol for a patient, moving sessions with
their pairs, and a course's life (cancel, pause, resume, extend). Shared by the API and the
pages; every function takes the session and the action and never commits, except
``plan_and_book``, whose retries are transactions of their own."""

from .booking import (
    NewCourse,
    ProposedAppointment,
    book_course,
    book_plan,
    new_course,
    plan_and_book,
    plan_new_course,
    proposal_plan,
)
from .course_state import CourseState, course_state, get_course
from .lifecycle import cancel_course, extend_course, pause_course, resume_course
from .moves import (
    ApprovedMoves,
    MovePreview,
    PlannedMove,
    SessionsMustFollow,
    apply_moves,
    cancel_session,
    move_session,
    preview_move,
    read_token,
)
from .queries import CourseView, StepProgress, course_view, list_courses

__all__ = [
    "ApprovedMoves",
    "CourseState",
    "CourseView",
    "MovePreview",
    "NewCourse",
    "PlannedMove",
    "ProposedAppointment",
    "SessionsMustFollow",
    "StepProgress",
    "apply_moves",
    "book_course",
    "book_plan",
    "cancel_course",
    "cancel_session",
    "course_state",
    "course_view",
    "extend_course",
    "get_course",
    "list_courses",
    "move_session",
    "new_course",
    "pause_course",
    "plan_and_book",
    "plan_new_course",
    "preview_move",
    "proposal_plan",
    "read_token",
    "resume_course",
]
