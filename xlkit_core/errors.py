"""The project's error kinds. Each carries a message that says what to do, shown to the user as one
line; every package's own errors derive from :class:`XlkitError`."""

from __future__ import annotations

# Marker that lets the driver find our message inside a Java/Py4J stack trace.
MARK = "XLKIT-ERROR"


class XlkitError(Exception):
    """Base class: a failure whose message is meant for the user, without a stack trace."""

    exit_code = 1

    def user_message(self) -> str:
        return str(self)


class ConfigError(XlkitError, ValueError):
    """A bad option value or a configuration that cannot run (LANGS, split size, paths, a trainer
    config key); the message says how to fix it. Exit code 2, like argparse."""

    exit_code = 2


class InputError(XlkitError):
    """An input path that is missing, unreadable or of an unknown kind."""

    exit_code = 2


class CorruptInputError(XlkitError):
    """A compressed file that is truncated or corrupt. The message always names the file."""

    def __init__(self, path: str, detail: str):
        super().__init__(f"{path}: {detail}")
        self.path = path
        self.detail = detail

    def __reduce__(self):  # keep picklable across Spark workers
        return (CorruptInputError, (self.path, self.detail))


class RejectThresholdError(XlkitError):
    """Too many malformed records: the job fails rather than silently dropping data."""


class OutputExistsError(XlkitError):
    exit_code = 2


def tagged(message: str) -> str:
    """Wrap a message so that :func:`find_tagged` can pull it out of a remote traceback."""
    return f"{MARK}[{message}]{MARK}"


def find_tagged(text: str) -> str | None:
    start = text.find(MARK + "[")
    if start < 0:
        return None
    end = text.find("]" + MARK, start)
    if end < 0:
        return None
    return text[start + len(MARK) + 1 : end]
