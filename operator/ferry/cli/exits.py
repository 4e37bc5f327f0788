"""Exit codes of the local-mode commands: 0 success; 1 failure; 2 refused (policy, plan, settings)."""

from __future__ import annotations

EXIT_OK, EXIT_FAILED, EXIT_REFUSED = 0, 1, 2
