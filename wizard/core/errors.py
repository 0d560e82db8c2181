"""Two kinds of error: a UserError is a sentence that says what to do; anything else is a bug."""


class UserError(Exception):
    """A problem the user can fix. Its text is shown as is, without a traceback."""

    exit_code = 1


class ConfigError(UserError):
    """The configuration file is missing, unreadable or invalid (exit code 2)."""

    exit_code = 2


class Cancelled(Exception):
    """The user asked a running operation to stop."""


class ArchiveDamaged(UserError):
    """An archive failed verification; ``member`` names the first damaged file."""

    def __init__(self, message: str, member: str | None = None):
        super().__init__(message)
        self.member = member
