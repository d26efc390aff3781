"""``python -m api.client_document``: the OpenAPI document that ``clients/python`` is generated
from (``make client``), printed as JSON."""

import json
import os
import sys
import tempfile
from typing import Any

from api.app import create_app
from infra.settings import Settings


def document_for_clients() -> dict[str, Any]:
    """The OpenAPI document that ``clients/python`` is generated from: the app as a default
    installation builds it (built-in OAuth server, public URL ``http://127.0.0.1:8000``), with no
    ``SHORTLIST_*`` variable of the caller's environment in it, so the same code always gives the
    same document."""
    for name in [name for name in os.environ if name.startswith("SHORTLIST_")]:
        del os.environ[name]
    with tempfile.TemporaryDirectory() as scratch:
        app = create_app(
            Settings(
                environment="development",
                database_url=f"sqlite:///{scratch}/shortlist.db",
                storage_url=f"file://{scratch}/blobs",
                public_url="http://127.0.0.1:8000",
                log_json=False,
                log_level="WARNING",
            )
        )
        try:
            return app.openapi()
        finally:
            app.state.engine.dispose()


if __name__ == "__main__":
    json.dump(document_for_clients(), sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
