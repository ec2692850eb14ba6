"""mkdocs hook: links from docs/ to files elsewhere in the repository.

The guides link to `../schemas/...`, `../rules/...` and the like with relative paths, so they work
when read on the forge or in a checkout. In the built site those targets are not pages: this hook
turns each into a link to the file in the repository (``repo_url``/blob/main/...), and a link whose
target does not exist in the repository fails the build (``strict``), like a broken page link.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path, PurePosixPath
from typing import Any

log = logging.getLogger("mkdocs.plugins.slsalint-links")

_LINK = re.compile(r"(\]\()([^)\s#]+)(#[^)\s]*)?(\))")


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    docs_dir = Path(config["docs_dir"]).resolve()
    root = docs_dir.parent
    base = str(config.get("repo_url") or "").rstrip("/")
    page_dir = (docs_dir / page.file.src_uri).parent

    def replace(match: re.Match[str]) -> str:
        target = match.group(2)
        if "://" in target or target.startswith(("mailto:", "/")):
            return match.group(0)
        resolved = (page_dir / target).resolve()
        if resolved.is_relative_to(docs_dir):
            return match.group(0)  # a page or asset of the site: mkdocs checks it
        if not resolved.is_relative_to(root) or not resolved.exists():
            log.warning("%s links to %s, which is not in the repository", page.file.src_uri, target)
            return match.group(0)
        relative = PurePosixPath(resolved.relative_to(root).as_posix())
        kind = "tree" if resolved.is_dir() else "blob"
        return f"{match.group(1)}{base}/{kind}/main/{relative}{match.group(3) or ''}{match.group(4)}"

    return _LINK.sub(replace, markdown)
