"""The one error type of the data package."""

from __future__ import annotations


class DatasetError(ValueError):
    """A dataset is missing or malformed. The message names the path and what is wrong.

    Loaders raise this instead of substituting anything (never random data, never a download).
    """


__all__ = ["DatasetError"]
