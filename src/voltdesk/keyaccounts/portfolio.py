"""Account managers' portfolios: who looks after which member (being built)."""


def apply_membership_changes(run, *, actor=None) -> None:
    """After an evaluation run: give new members a manager, drop leavers, send letters."""
    return None
