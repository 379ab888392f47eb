"""The business club: memberships and their decisions, portfolios, meetings, tasks, surveys."""

from .membership import EligibilityRun, Membership, MembershipDecision, MembershipPeriod
from .portfolio import AccountManager, PortfolioAssignment
from .relationship import Meeting, SurveyResponse, Task

__all__ = [
    "AccountManager",
    "EligibilityRun",
    "Meeting",
    "Membership",
    "MembershipDecision",
    "MembershipPeriod",
    "PortfolioAssignment",
    "SurveyResponse",
    "Task",
]
