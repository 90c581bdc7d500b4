"""A plugin whose module fails to import (a dependency that is not installed)."""

import edgeq_no_such_dependency  # noqa: F401
