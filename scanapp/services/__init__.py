"""Domain operations. Functions take plain values and the acting user, flush but never commit, and raise
DomainError with a message a person understands."""


class DomainError(Exception):
    """A request the rules refuse; the message is shown to the user as it is."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return self.message


class Forbidden(DomainError):
    """The user's role or stores do not allow this."""


class AlreadyApplied(DomainError):
    """This event id was applied before; `event` is the earlier one, whose result stands."""

    def __init__(self, event):
        super().__init__("Already recorded: that was sent twice and applied once.")
        self.event = event
