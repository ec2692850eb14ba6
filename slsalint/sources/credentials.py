"""Registry credentials from Docker and Podman configuration files and credential helpers.

Looked up, in order: ``$REGISTRY_AUTH_FILE`` (Podman/Skopeo ``auth.json``), ``$DOCKER_CONFIG/config.json``,
``~/.docker/config.json``. Within a file: ``credHelpers[host]``, then ``auths[host]``, then
``credsStore``. Credentials are only ever sent to the registry host they belong to.
"""

from __future__ import annotations

import base64
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slsalint import fileio, jsonio
from slsalint.errors import ConfigError

MAX_CONFIG = 4 * 1024 * 1024
"""Largest credentials file read (bytes)."""

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
    if not path.exists() and not path.is_symlink():
        return None
    try:
        return jsonio.load_object(fileio.read_bytes(path, limit=MAX_CONFIG))
    except fileio.FileReadError as exc:
        if exc.problem == "no such file":
            return None
        raise ConfigError(f"{exc} (registry credentials file)") from None
    except jsonio.JSONError as exc:
        raise ConfigError(f"{path}: registry credentials file: {exc}") from None


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
        data = jsonio.load_object(result.stdout)
    except jsonio.JSONError:
        raise ConfigError(f"credential helper {program} printed malformed output") from None
    username: Any = data.get("Username")
    secret: Any = data.get("Secret")
    if not isinstance(secret, str) or not secret:
        return None
    return Credential(username if isinstance(username, str) else None, secret)


def names_host(host: str) -> bool:
    """Whether a credentials file names ``host`` (an ``auths`` or ``credHelpers`` key for it): the
    user then trusts it with credentials, e.g. a token service on another host than its registry."""
    keys = set(_keys_for(host))
    for path in config_files():
        data = _load(path)
        if data is None:
            continue
        for section in ("auths", "credHelpers"):
            entries = data.get(section)
            if isinstance(entries, dict) and keys & set(entries):
                return True
    return False


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
