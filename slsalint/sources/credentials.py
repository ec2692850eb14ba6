"""Registry credentials from Docker and Podman configuration files and credential helpers.

Looked up, in order: ``$REGISTRY_AUTH_FILE`` (Podman/Skopeo ``auth.json``), ``$DOCKER_CONFIG/config.json``,
``~/.docker/config.json``. Within a file: ``credHelpers[host]``, then ``auths[host]``, then
``credsStore``. Credentials are only ever sent to the registry host they belong to.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slsalint.errors import ConfigError

DOCKER_HUB_KEYS = ("https://index.docker.io/v1/", "index.docker.io", "docker.io", "registry-1.docker.io")


@dataclass(frozen=True)
class Credential:
    username: str | None
    secret: str
    """A password, or an identity (refresh) token when ``username`` is None or ``<token>``."""

    @property
    def is_identity_token(self) -> bool:
        return self.username in (None, "", "<token>")

    def __repr__(self) -> str:  # never show the secret
        return f"Credential(username={self.username!r}, secret=<redacted>)"


def config_files() -> list[Path]:
    out: list[Path] = []
    auth_file = os.environ.get("REGISTRY_AUTH_FILE")
    if auth_file:
        out.append(Path(auth_file))
    docker_config = os.environ.get("DOCKER_CONFIG")
    if docker_config:
        out.append(Path(docker_config) / "config.json")
    home = os.environ.get("HOME")
    if home:
        out.append(Path(home) / ".docker" / "config.json")
    return out


def _keys_for(registry: str) -> list[str]:
    if registry in ("docker.io", "registry-1.docker.io", "index.docker.io"):
        return list(DOCKER_HUB_KEYS)
    return [
        registry,
        f"https://{registry}",
        f"http://{registry}",
        f"https://{registry}/v1/",
        f"https://{registry}/v2/",
    ]


def _load(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: cannot read registry credentials: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: registry credentials file is not a JSON object")
    return data


def _from_auth_entry(path: Path, key: str, entry: Any) -> Credential | None:
    if not isinstance(entry, dict):
        return None
    if isinstance(entry.get("identitytoken"), str) and entry["identitytoken"]:
        return Credential(None, entry["identitytoken"])
    auth = entry.get("auth")
    if isinstance(auth, str) and auth:
        try:
            decoded = base64.b64decode(auth, validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            raise ConfigError(f"{path}: auths[{key!r}].auth is not base64 of user:password") from None
        user, sep, secret = decoded.partition(":")
        if not sep:
            raise ConfigError(f"{path}: auths[{key!r}].auth is not base64 of user:password")
        return Credential(user, secret)
    name, password = entry.get("username"), entry.get("password")
    if isinstance(name, str) and isinstance(password, str):
        return Credential(name, password)
    return None


def run_helper(helper: str, server: str) -> Credential | None:
    """``docker-credential-<helper> get``; None when the helper has no entry for ``server``."""
    program = f"docker-credential-{helper}"
    try:
        result = subprocess.run(
            [program, "get"], input=server, capture_output=True, text=True, timeout=30, check=False
        )
    except FileNotFoundError:
        raise ConfigError(f"credential helper {program} is configured but not installed") from None
    except subprocess.TimeoutExpired:
        raise ConfigError(f"credential helper {program} did not answer within 30 s") from None
    if result.returncode != 0:
        if "credentials not found" in (result.stdout + result.stderr).lower():
            return None
        raise ConfigError(f"credential helper {program} failed for {server}: {result.stderr.strip()[:200]}")
    try:
        data = json.loads(result.stdout)
        username: Any = data.get("Username")
        secret: Any = data.get("Secret")
    except (ValueError, AttributeError):
        raise ConfigError(f"credential helper {program} printed malformed output") from None
    if not isinstance(secret, str) or not secret:
        return None
    return Credential(username if isinstance(username, str) else None, secret)


def lookup(registry: str) -> Credential | None:
    """Credentials for ``registry`` (host[:port] as written in the reference), or None."""
    keys = _keys_for(registry)
    for path in config_files():
        data = _load(path)
        if data is None:
            continue
        helpers = data.get("credHelpers")
        if isinstance(helpers, dict):
            for key in keys:
                helper = helpers.get(key)
                if isinstance(helper, str) and helper:
                    return run_helper(helper, keys[0])
        auths = data.get("auths")
        if isinstance(auths, dict):
            for key in keys:
                if key in auths:
                    credential = _from_auth_entry(path, key, auths[key])
                    if credential is not None:
                        return credential
        store = data.get("credsStore")
        if isinstance(store, str) and store:
            return run_helper(store, keys[0])
    return None
