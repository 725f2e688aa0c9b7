"""Generate an Alembic revision from the models, against a scratch database on the embedded server.

    .venv/bin/python scripts/new_migration.py "add referrals" 0050 [--head 0003]

The scratch database is named after the revision id, so several developers can run this at once.
Review the generated file: autogenerate does not see triggers, seeds or CHECK changes.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from alembic import command

from app.embedded import create_database, drop_database, start_embedded_postgres
from app.migrations import alembic_config

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("message")
    parser.add_argument("rev_id")
    parser.add_argument("--head", default=None, help="branch point when the scripts have several heads")
    args = parser.parse_args()
    scratch = f"migration_{args.rev_id}"
    url, server = start_embedded_postgres(ROOT / ".wijkwerk" / "dev", scratch)
    drop_database(server, scratch)
    create_database(server, scratch)
    config = alembic_config(url)
    command.upgrade(config, "heads")
    command.revision(
        config, message=args.message, autogenerate=True, rev_id=args.rev_id, head=args.head or "head"
    )
    drop_database(server, scratch)


if __name__ == "__main__":
    main()
