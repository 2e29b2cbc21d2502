"""postsearch test suite."""
