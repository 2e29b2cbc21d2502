"""Posts in, index build out: parsing, full-text and TF-IDF artifacts, publishing."""

from .build import BuildOptions, BuildResult, build
from .errors import (
    BuildCorrupt,
    IndexNotBuilt,
    NothingToBuild,
    PostParseError,
    PostsSkipped,
    ReindexLocked,
    ServiceError,
)
from .posts import Category, Post, load_posts, parse_post

__all__ = [
    "BuildCorrupt",
    "BuildOptions",
    "BuildResult",
    "Category",
    "IndexNotBuilt",
    "NothingToBuild",
    "Post",
    "PostParseError",
    "PostsSkipped",
    "ReindexLocked",
    "ServiceError",
    "build",
    "load_posts",
    "parse_post",
]
