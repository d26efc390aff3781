"""One router module per resource, wired in ``api.app``."""
