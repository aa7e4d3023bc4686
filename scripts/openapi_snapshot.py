"""Write the bank API's OpenAPI document to tests/api/openapi.snapshot.json (what tests/api/test_api_openapi.py
compares the served document with). Run it when the API changes on purpose, and commit the diff with the change:

    .venv/bin/python scripts/openapi_snapshot.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from sqlalchemy import create_engine

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOT = ROOT / "tests" / "api" / "openapi.snapshot.json"


def document() -> dict[str, object]:
    sys.path.insert(0, str(ROOT))
    from api.app import create_app
    from node.settings import load_settings

    settings = load_settings(bank_id="BANKA", db_url="sqlite:////nonexistent/unused.sqlite3")
    return create_app(settings, engine=create_engine("sqlite://")).openapi()  # never connects


def main() -> None:
    SNAPSHOT.write_text(json.dumps(document(), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {SNAPSHOT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
