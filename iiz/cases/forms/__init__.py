"""Forms of the case pages. They parse and check input; the services decide and write.

Field names follow the keys of the services' validation errors, so that ``form_add_service_errors`` shows
each message at its field. Choices that depend on the case (participants, meetings) are built from lists
the page has already read, never from a query per form: the case page runs a fixed number of queries.
"""

from iiz.cases.forms.case import (
    CASE_SORTS,
    AgreementForm,
    AgreementStatusForm,
    CaseCloseForm,
    CaseFilterForm,
    ClarificationForm,
    FollowUpForm,
    InformationAnswerForm,
    InformationRequestForm,
    JointInterviewForm,
    LevelChangeForm,
    MeasureForm,
    MeasureStatusForm,
    MeetingForm,
    MinutesForm,
    PlanAgreeForm,
    PlanForm,
    RouteForm,
)
from iiz.cases.forms.detection import (
    CaseOpenForm,
    OverrideForm,
    OverrideRequestForm,
    ScreeningForm,
    TargetGroupCheckForm,
)
from iiz.cases.forms.fields import meeting_invitable_users, partner_institutions, user_label

__all__ = [
    "CASE_SORTS",
    "AgreementForm",
    "AgreementStatusForm",
    "CaseCloseForm",
    "CaseFilterForm",
    "CaseOpenForm",
    "ClarificationForm",
    "FollowUpForm",
    "InformationAnswerForm",
    "InformationRequestForm",
    "JointInterviewForm",
    "LevelChangeForm",
    "MeasureForm",
    "MeasureStatusForm",
    "MeetingForm",
    "MinutesForm",
    "OverrideForm",
    "OverrideRequestForm",
    "PlanAgreeForm",
    "PlanForm",
    "RouteForm",
    "ScreeningForm",
    "TargetGroupCheckForm",
    "meeting_invitable_users",
    "partner_institutions",
    "user_label",
]
