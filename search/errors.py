"""Errors raised while answering queries; the API maps each to an HTTP status."""

from __future__ import annotations

from index.errors import ServiceError


class InvalidParameter(ServiceError):
    """A request parameter has a value the searcher cannot use."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param = param


class PostNotFound(ServiceError):
    """No visible post has this slug or alias."""

    def __init__(self, slug: str) -> None:
        super().__init__(f"no post with slug {slug!r}")
        self.slug = slug


class PostMoved(ServiceError):
    """The reference is an alias or old slug of a post that now has `slug`."""

    def __init__(self, ref: str, slug: str) -> None:
        super().__init__(f"{ref!r} has moved to {slug!r}")
        self.ref = ref
        self.slug = slug
