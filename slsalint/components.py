"""The components map of the policy file: which images belong to which component, and what is
expected of their provenance.

```yaml
components:
  fleet-agent:
    images: ["*/rancher/fleet-agent"]          # globs over the image name (no tag, no digest)
    source: https://github.com/rancher/fleet   # expected source repository (SL401)
    ref: "refs/tags/{tag}"                     # expected ref (SL402); {tag} is the image tag ...
    tag-transforms:                            # ... after these rewrites, in order
      - strip-v
      - {replace-suffix: {from: "-rke2r1", to: "+rke2r1"}}
    signers:                                   # who may sign this component (signature checks)
      - {issuer: https://token.actions.githubusercontent.com, identity-regexp: '^https://github\\.com/rancher/fleet/'}
```

Image names. A registry reference is matched by its normalized name, ``registry/repository``
(``rancher/fleet-agent:v0.12.0`` is ``docker.io/rancher/fleet-agent``). An OCI layout
(``oci:PATH[:TAG|@DIGEST]``) is matched by the full image reference recorded in its ``index.json``
entry (``io.containerd.image.name``, or an ``org.opencontainers.image.ref.name`` that is a full
reference) when there is one, else by the absolute path of the layout directory (so
``*/rancher/fleet-agent`` matches ``oci:rancher/fleet-agent:v0.12.0`` from any directory). Globs
use ``fnmatch`` rules, where ``*`` also matches ``/``; a glob whose first part has no wildcard and
names no registry host is normalized like a Docker reference (``rancher/fleet-agent`` means
``docker.io/rancher/fleet-agent``).

Tag transforms are declarative rewrites applied in order, each to the result of the previous one; a
transform that does not apply leaves the tag unchanged:

========================================== ======================================================
``strip-v``                                ``v1.2.3`` -> ``1.2.3``
``add-v``                                  ``1.2.3`` -> ``v1.2.3`` (unchanged when it starts with v)
``{strip-prefix: P}``                      removes the prefix ``P``
``{strip-suffix: S}``                      removes the suffix ``S``
``{replace-prefix: {from: A, to: B}}``     a leading ``A`` becomes ``B``
``{replace-suffix: {from: A, to: B}}``     a trailing ``A`` becomes ``B`` (``-rke2r1`` -> ``+rke2r1``)
``{regex: {pattern: P, replace: R}}``      the first match of the Python regex ``P`` becomes ``R``
                                           (``\\1`` and ``\\g<name>`` refer to groups)
========================================== ======================================================

Nothing here performs network I/O; reading an OCI layout's ``index.json`` is the only file access.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from slsalint import fileio, jsonio
from slsalint.errors import ConfigError
from slsalint.model import Target
from slsalint.sources.oci import REF_NAME

TAG_PLACEHOLDER = "{tag}"
CONTAINERD_IMAGE_NAME = "io.containerd.image.name"
COMPONENT_NAME = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9._-]*\Z")
"""A component name; anything else in an exception's ``component`` is an image glob."""

_GLOB_CHARS = frozenset("*?[")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


# --- tag transforms ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TagTransform:
    """One rewrite of an image tag (see the module documentation for the kinds)."""

    kind: str
    """``strip-v``, ``add-v``, ``strip-prefix``, ``strip-suffix``, ``replace-prefix``,
    ``replace-suffix`` or ``regex``."""
    old: str = ""
    """The prefix, suffix or regex pattern."""
    new: str = ""
    """The replacement (``replace-*`` and ``regex``)."""

    def apply(self, tag: str) -> str:
        if self.kind == "strip-v":
            return tag[1:] if tag.startswith("v") else tag
        if self.kind == "add-v":
            return tag if tag.startswith("v") else f"v{tag}"
        if self.kind == "strip-prefix":
            return tag.removeprefix(self.old)
        if self.kind == "strip-suffix":
            return tag.removesuffix(self.old)
        if self.kind == "replace-prefix":
            return self.new + tag[len(self.old) :] if tag.startswith(self.old) else tag
        if self.kind == "replace-suffix":
            return tag[: len(tag) - len(self.old)] + self.new if tag.endswith(self.old) else tag
        if self.kind == "regex":
            return re.sub(self.old, self.new, tag, count=1)
        raise ValueError(f"unknown tag transform {self.kind!r}")

    def __str__(self) -> str:
        if self.kind in ("strip-v", "add-v"):
            return self.kind
        if self.kind in ("strip-prefix", "strip-suffix"):
            return f"{self.kind} {self.old!r}"
        if self.kind == "regex":
            return f"regex {self.old!r} -> {self.new!r}"
        return f"{self.kind} {self.old!r} -> {self.new!r}"


def parse_transform(raw: Any, where: str) -> TagTransform:
    """One ``tag-transforms`` item (already schema-checked); ConfigError naming ``where`` otherwise."""
    if raw in ("strip-v", "add-v"):
        return TagTransform(str(raw))
    if isinstance(raw, Mapping) and len(raw) == 1:
        kind, value = next(iter(raw.items()))
        if kind in ("strip-prefix", "strip-suffix") and isinstance(value, str) and value:
            return TagTransform(str(kind), value)
        if kind in ("replace-prefix", "replace-suffix") and isinstance(value, Mapping):
            old, new = value.get("from"), value.get("to")
            if isinstance(old, str) and old and isinstance(new, str):
                return TagTransform(str(kind), old, new)
        if kind == "regex" and isinstance(value, Mapping):
            pattern, replace = value.get("pattern"), value.get("replace")
            if isinstance(pattern, str) and pattern and isinstance(replace, str):
                try:
                    re.compile(pattern).sub(replace, "")  # checks the group references too
                except re.error as exc:
                    raise ConfigError(
                        f"{where}: invalid regex transform {pattern!r} -> {replace!r}: {exc}"
                    ) from None
                return TagTransform("regex", pattern, replace)
    raise ConfigError(
        f"{where}: unknown tag transform {raw!r} (expected strip-v, add-v, {{strip-prefix: P}}, "
        "{strip-suffix: S}, {replace-prefix: {from: A, to: B}}, {replace-suffix: {from: A, to: B}} "
        "or {regex: {pattern: P, replace: R}})"
    )


# --- signers -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignerSpec:
    """One allowed signer as written in the policy (``signers:`` entries, top level or per component).

    Plain data for signature verification: keyless signers constrain issuer and identity (exact or
    regexp, cosign semantics), keyed signers name a public key file (resolved against the policy
    file's directory).
    """

    issuer: str | None = None
    issuer_regexp: str | None = None
    identity: str | None = None
    identity_regexp: str | None = None
    key: Path | None = None
    annotations: Mapping[str, str] = field(default_factory=dict, hash=False)

    def describe(self) -> str:
        if self.key is not None:
            return f"key {self.key}"
        parts = []
        for label, value in (
            ("issuer", self.issuer),
            ("issuer-regexp", self.issuer_regexp),
            ("identity", self.identity),
            ("identity-regexp", self.identity_regexp),
        ):
            if value is not None:
                parts.append(f"{label} {value!r}")
        parts += [f"annotation {k}={v}" for k, v in sorted(self.annotations.items())]
        return ", ".join(parts)

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for label, value in (
            ("issuer", self.issuer),
            ("issuer-regexp", self.issuer_regexp),
            ("identity", self.identity),
            ("identity-regexp", self.identity_regexp),
            ("key", str(self.key) if self.key is not None else None),
        ):
            if value is not None:
                out[label] = value
        if self.annotations:
            out["annotations"] = dict(self.annotations)
        return out


def parse_signers(raw: Any, *, base_dir: Path) -> tuple[SignerSpec, ...]:
    """``signers:`` entries (already schema-checked) as SignerSpec values."""
    out = []
    for item in raw or []:
        key = item.get("key")
        out.append(
            SignerSpec(
                issuer=item.get("issuer"),
                issuer_regexp=item.get("issuer-regexp"),
                identity=item.get("identity"),
                identity_regexp=item.get("identity-regexp"),
                key=(base_dir / str(key)) if key else None,
                annotations={str(k): str(v) for k, v in (item.get("annotations") or {}).items()},
            )
        )
    return tuple(out)


# --- images --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImageIdentity:
    """What a component or an exception glob is matched against."""

    reference: str
    """The reference as checked (``oci:PATH:TAG``, ``REGISTRY/REPO:TAG@DIGEST``)."""
    name: str
    """Normalized name without tag or digest: ``docker.io/rancher/fleet-agent``, or a layout path."""
    tag: str | None
    digest: str | None


def normalize_glob(pattern: str) -> str:
    """Docker-style normalization of a glob whose first part is literal and names no registry."""
    pattern = pattern.strip()
    first, sep, _rest = pattern.partition("/")
    if pattern.startswith(("/", ".")) or any(c in _GLOB_CHARS for c in first):
        return pattern  # a layout path, or a wildcard first part
    if not sep:
        return f"docker.io/library/{pattern}"
    if "." in first or ":" in first or first == "localhost":
        return pattern
    return f"docker.io/{pattern}"


def identify(reference: str, *, digests: tuple[str, ...] = ()) -> ImageIdentity:
    """The identity of an image reference (registry or ``oci:`` layout).

    ``digests`` are the digests the checked image is known by (index first), used to find an
    untagged layout image's ``index.json`` entry. A reference that is neither (attestation files)
    is its own name.
    """
    if reference.startswith("oci:"):
        return _layout_identity(reference, digests)
    from slsalint.sources.reference import parse_reference

    try:
        ref = parse_reference(reference)
    except ConfigError:
        return ImageIdentity(reference, reference, None, None)
    return ImageIdentity(reference, ref.name, ref.tag, ref.digest)


def _full_reference(text: str | None) -> tuple[str, str | None] | None:
    """``(name, tag)`` of an annotation holding a full image reference, else None."""
    if not text or "/" not in text:
        return None
    from slsalint.sources.reference import parse_reference

    try:
        ref = parse_reference(text)
    except ConfigError:
        return None
    return ref.name, ref.tag


def _layout_identity(reference: str, digests: tuple[str, ...]) -> ImageIdentity:
    from slsalint.sources.layout import parse_layout_ref

    ref = parse_layout_ref(reference)
    name = os.path.abspath(ref.path)  # noqa: PTH100 - absolute, but symlinks are not resolved
    tag = ref.tag
    annotations = _layout_entry_annotations(ref.path, tag, ref.digest, digests)
    full = _full_reference(annotations.get(CONTAINERD_IMAGE_NAME)) or _full_reference(
        annotations.get(REF_NAME)
    )
    if full is not None:
        name = full[0]
        tag = tag or full[1]
    if tag is None:
        ref_name = annotations.get(REF_NAME)
        if ref_name and "/" not in ref_name and ":" not in ref_name:
            tag = ref_name
    return ImageIdentity(reference, name, tag, ref.digest)


def _layout_entry_annotations(
    path: Path, tag: str | None, digest: str | None, digests: tuple[str, ...]
) -> dict[str, str]:
    """Annotations of the ``index.json`` entry of the checked image (empty when not found)."""
    from slsalint.sources.layout import DEFAULT_MAX_BLOB

    try:
        index = jsonio.loads(fileio.read_bytes(path / "index.json", limit=DEFAULT_MAX_BLOB))
    except (fileio.FileReadError, jsonio.JSONError):
        return {}  # the layout reader reports the unreadable index itself (exit 3)
    entries = (
        [e for e in (index.get("manifests") or []) if isinstance(e, dict)] if isinstance(index, dict) else []
    )

    def annotations(entry: dict[str, Any]) -> dict[str, str]:
        raw = entry.get("annotations")
        return {str(k): v for k, v in raw.items() if isinstance(v, str)} if isinstance(raw, dict) else {}

    for entry in entries:
        ann = annotations(entry)
        if tag is not None and ann.get(REF_NAME) == tag:
            return ann
    for wanted in ([digest] if digest else []) + list(digests):
        for entry in entries:
            if entry.get("digest") == wanted:
                return annotations(entry)
    return {}


def identify_target(target: Target) -> ImageIdentity:
    """The identity of a checked target (its reference, and its digests for layouts)."""
    digests = tuple(d for d in [target.index_digest, *(p.digest for p in target.platforms)] if d)
    return identify(target.reference, digests=digests)


def glob_matches(pattern: str, image: ImageIdentity) -> bool:
    return fnmatchcase(image.name, normalize_glob(pattern))


# --- components ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Component:
    name: str
    images: tuple[str, ...]
    source: str | None = None
    ref: str | None = None
    """Ref template: ``refs/tags/{tag}``; without ``{tag}`` an exact ref or a glob."""
    tag_transforms: tuple[TagTransform, ...] = ()
    signers: tuple[SignerSpec, ...] = ()
    """Who may sign this component's images; consumed by signature verification."""
    line: int | None = field(default=None, compare=False)
    """Line of the component's entry in the policy file (report locations), when known."""
    key_lines: Mapping[str, int] = field(default_factory=dict, compare=False, hash=False)
    """Line of each key of the entry (``images``, ``source``, ``ref``, ``signers``, ...)."""

    def matching_glob(self, image: ImageIdentity) -> str | None:
        for pattern in self.images:
            if glob_matches(pattern, image):
                return pattern
        return None

    def transform_steps(self, tag: str) -> list[tuple[TagTransform, str]]:
        """Each transform with the tag it produced."""
        steps = []
        for transform in self.tag_transforms:
            tag = transform.apply(tag)
            steps.append((transform, tag))
        return steps

    def transform_tag(self, tag: str) -> str:
        for transform in self.tag_transforms:
            tag = transform.apply(tag)
        return tag

    def expected_ref(self, tag: str | None) -> str | None:
        """The ref expected for an image with ``tag``; None when the template needs a tag and there
        is none. Glob characters coming from the tag are escaped."""
        if self.ref is None:
            return None
        if TAG_PLACEHOLDER not in self.ref:
            return self.ref
        if tag is None:
            return None
        value = self.transform_tag(tag).replace("[", "[[]").replace("*", "[*]").replace("?", "[?]")
        return self.ref.replace(TAG_PLACEHOLDER, value)


@dataclass(frozen=True)
class Expectation:
    """What the component map expects of one image's provenance."""

    component: Component
    image: ImageIdentity
    pattern: str
    """The glob of ``component.images`` that matched."""

    @property
    def source(self) -> str | None:
        return self.component.source

    @property
    def ref(self) -> str | None:
        return self.component.expected_ref(self.image.tag)

    @property
    def ref_problem(self) -> str | None:
        """Why the expected ref cannot be derived (no tag to fill ``{tag}``), else None."""
        if self.component.ref is not None and self.ref is None:
            return (
                f"component {self.component.name} expects ref {self.component.ref!r} but the image "
                f"reference {self.image.reference} carries no tag to derive it from"
            )
        return None

    @property
    def signers(self) -> tuple[SignerSpec, ...]:
        return self.component.signers


@dataclass(frozen=True)
class ComponentMap:
    components: tuple[Component, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.components)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.components]

    def get(self, name: str) -> Component | None:
        for component in self.components:
            if component.name == name:
                return component
        return None

    def match(self, image: ImageIdentity) -> Expectation | None:
        """The component ``image`` belongs to; ConfigError when several claim it."""
        found = [(c, p) for c in self.components if (p := c.matching_glob(image)) is not None]
        if len(found) > 1:
            listed = ", ".join(f"{c.name} ({p})" for c, p in found)
            raise ConfigError(
                f"{image.reference}: image {image.name} matches several components: {listed}; "
                "make their image globs disjoint"
            )
        if not found:
            return None
        component, pattern = found[0]
        return Expectation(component, image, pattern)

    def resolve(self, target: Target) -> Expectation | None:
        if not self.components or target.kind != "image":
            return None
        return self.match(identify_target(target))


def check_ref_template(template: str, where: str) -> None:
    for match in _PLACEHOLDER.finditer(template):
        if match.group(0) != TAG_PLACEHOLDER:
            raise ConfigError(
                f"{where}: unknown placeholder {match.group(0)!r} in ref (only {{tag}} is known)"
            )
    if "{" in _PLACEHOLDER.sub("", template) or "}" in _PLACEHOLDER.sub("", template):
        raise ConfigError(f"{where}: unbalanced brace in ref {template!r}")


def parse_components(
    raw: Any,
    *,
    base_dir: Path,
    locate: Callable[[str], str],
    line_at: Callable[[str], int | None] | None = None,
) -> ComponentMap:
    """The ``components`` mapping of a schema-checked policy document.

    ``locate(pointer)`` names the place of a JSON pointer (``file:line``) for error messages;
    ``line_at(pointer)`` gives its line number, recorded for report locations.
    """
    out = []
    for name, body in (raw or {}).items():
        name = str(name)
        base = f"/components/{name.replace('~', '~0').replace('/', '~1')}"
        ref = body.get("ref")
        if ref is not None:
            check_ref_template(str(ref), f"{locate(base + '/ref')}: components.{name}")
        transforms = tuple(
            parse_transform(item, f"{locate(f'{base}/tag-transforms/{i}')}: components.{name}")
            for i, item in enumerate(body.get("tag-transforms") or [])
        )
        if transforms and (ref is None or TAG_PLACEHOLDER not in str(ref)):
            raise ConfigError(
                f"{locate(base + '/tag-transforms')}: components.{name}: tag-transforms need a ref "
                "template with {tag}"
            )
        out.append(
            Component(
                name=name,
                images=tuple(str(p) for p in body["images"]),
                source=str(body["source"]) if body.get("source") else None,
                ref=str(ref) if ref is not None else None,
                tag_transforms=transforms,
                signers=parse_signers(body.get("signers"), base_dir=base_dir),
                line=line_at(base) if line_at is not None else None,
                key_lines={
                    str(key): line
                    for key in body
                    if line_at is not None and (line := line_at(f"{base}/{key}")) is not None
                },
            )
        )
    return ComponentMap(tuple(out))


__all__ = [
    "COMPONENT_NAME",
    "Component",
    "ComponentMap",
    "Expectation",
    "ImageIdentity",
    "SignerSpec",
    "TagTransform",
    "glob_matches",
    "identify",
    "identify_target",
    "normalize_glob",
    "parse_components",
    "parse_transform",
]
