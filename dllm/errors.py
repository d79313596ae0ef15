"""User-facing errors: one line naming the bad value and the fix."""


class DllmError(Exception):
    """An error caused by user input (bad option, missing checkpoint, ...).

    The CLI prints ``error: <message>`` and exits non-zero without a traceback;
    library callers can catch it like any exception.
    """


class CheckpointError(DllmError):
    """A checkpoint directory, file or tensor is missing, corrupt or mismatched."""


class ConfigError(DllmError):
    """A generation or sampler option has a bad value or conflicts with another."""
