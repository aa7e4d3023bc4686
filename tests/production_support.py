"""Settings of a production node for tests of what a node refuses outside ``local``: the same node as the given
local settings (database, data dir, so the same custody key), made with every production check passing (an
operator keystore of a non-development key, a password file only the owner reads)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_typing import HexStr

from node.settings import Environment, NodeSettings

PASSWORD = "correct horse battery staple"
OPERATOR_KEY = "0x" + "5a" * 32  # not one of anvil's


def production_settings(local: NodeSettings, folder: Path, **overrides: Any) -> NodeSettings:
    """``local``'s node as a production node; its keystore and password file are written into ``folder``."""
    password = folder / "operator.pw"
    password.write_text(PASSWORD + "\n")
    password.chmod(0o600)
    keystore = folder / "operator.json"
    keystore.write_text(json.dumps(Account.encrypt(HexStr(OPERATOR_KEY), PASSWORD, kdf="pbkdf2", iterations=2)))
    values: dict[str, Any] = {
        **local.model_dump(exclude={"environment", "db_url", "operator_keystore", "operator_password_env",
                                    "operator_password_file"}, exclude_none=True),
        "environment": Environment.PRODUCTION, "db_url": local.database_url, "deployment_file": local.deployment_path,
        "operator_keystore": keystore, "operator_password_file": password, **overrides}
    production = NodeSettings(**values)
    assert production.environment is Environment.PRODUCTION
    return production
