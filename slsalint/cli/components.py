"""``slsalint components show IMAGE``: which component an image belongs to and what is expected of it."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from slsalint.cli._common import text_or_json
from slsalint.errors import ConfigError

if TYPE_CHECKING:
    from slsalint.components import Expectation, ImageIdentity
    from slsalint.exceptions import ExceptionsFile
    from slsalint.policy import Policy

app = typer.Typer(
    help="""Show the components map: image globs, expected source, ref and signers.

    Examples:

    \b
      slsalint components show ghcr.io/rancher/fleet-agent:v0.12.0
      slsalint components show ghcr.io/rancher/fleet-agent:v0.12.0 --format json
    """,
    no_args_is_help=True,
)


def _identity(image: str) -> ImageIdentity:
    from slsalint.components import identify, identify_target

    if image.startswith("oci:"):
        from slsalint.engine import build_target
        from slsalint.sources.layout import collect_layout

        return identify_target(build_target(collect_layout(image, want_sbom=False)))
    from slsalint.sources.reference import parse_reference

    parse_reference(image)  # exit 2 for a malformed reference
    return identify(image)


def _policy(path: Path | None) -> Policy:
    from slsalint.policy import DEFAULT_POLICY, default_policy, load_policy

    if path is not None:
        return load_policy(path)
    if (found := default_policy()) is not None:
        return load_policy(found)
    raise ConfigError(f"no policy: give --policy FILE or create {DEFAULT_POLICY} with a components map")


def _exceptions(path: Path | None, policy: Policy) -> ExceptionsFile | None:
    from slsalint.exceptions import load_exceptions

    chosen = path or policy.exceptions
    if chosen is None:
        return None
    return load_exceptions(chosen, horizon_days=None, components=policy.components)


def nearest_components(image: ImageIdentity, policy: Policy) -> list[str]:
    """The components whose name or image globs are closest to an image no component matches
    (``ghcr.io/rancher/fleet-agnt`` -> fleet-agent), by the last part of the name."""
    from slsalint.suggest import closest

    def last(name: str) -> str:
        return name.rstrip("/").rsplit("/", 1)[-1].split(":", 1)[0]

    choices: dict[str, str] = {}
    for component in policy.components.components:
        choices.setdefault(component.name, component.name)
        for glob in component.images:
            choices.setdefault(last(glob), component.name)
    hits = closest(last(image.name), [c for c in choices if "*" not in c], limit=3)
    return list(dict.fromkeys(choices[h] for h in hits))[:2]


def _document(
    image: ImageIdentity, match: Expectation | None, policy: Policy, exceptions: ExceptionsFile | None
) -> dict[str, Any]:
    from slsalint.components import glob_matches
    from slsalint.exceptions import utc_today

    out: dict[str, Any] = {
        "image": image.reference,
        "name": image.name,
        "tag": image.tag,
        "digest": image.digest,
        "policy": str(policy.path) if policy.path else None,
        "component": None,
    }
    if match is None:
        out["components"] = {c.name: list(c.images) for c in policy.components.components}
        out["didYouMean"] = nearest_components(image, policy)
        return out
    component = match.component
    steps = component.transform_steps(image.tag) if image.tag is not None else []
    out["component"] = {
        "name": component.name,
        "images": list(component.images),
        "matched": match.pattern,
        "source": component.source,
        "refTemplate": component.ref,
        "tagTransforms": [{"transform": str(t), "result": result} for t, result in steps],
        "expectedRef": match.ref,
        "refProblem": match.ref_problem,
        "signers": [s.as_json() for s in component.signers],
    }
    if exceptions is not None:
        today = utc_today()
        applicable = [
            e
            for e in exceptions.entries
            if (e.component == component.name if e.names_component else glob_matches(e.component, image))
        ]
        out["exceptions"] = {
            "file": str(exceptions.path),
            "entries": [
                e.as_json(
                    today,
                    warning_days=policy.exceptions_warning_days,
                    horizon_days=policy.exceptions_horizon_days,
                )
                for e in applicable
            ],
        }
    return out


def _print_text(doc: dict[str, Any]) -> None:
    from slsalint.report._common import sanitize

    def line(label: str, value: str) -> None:
        typer.echo(f"{label:<13}{sanitize(value)}")

    line("image", doc["image"])
    line("name", doc["name"])
    line("tag", doc["tag"] or "(none)")
    component = doc["component"]
    if component is None:
        policy = doc["policy"] or "the policy"
        hint = " or ".join(doc["didYouMean"])
        hint = f" (did you mean {sanitize(hint)}?)" if hint else ""
        typer.echo(f"no component of {sanitize(policy)} matches {sanitize(doc['name'])}{hint}")
        for name, globs in doc["components"].items():
            typer.echo(f"  {sanitize(name)}: {sanitize(', '.join(globs))}")
        return
    line("component", f"{component['name']} (matched {component['matched']})")
    line("source", f"{component['source']} (SL401)" if component["source"] else "(any: not set)")
    if component["refTemplate"] is None:
        line("ref", "(any: not set)")
    else:
        line("ref template", component["refTemplate"])
        tag = doc["tag"]
        for step in component["tagTransforms"] if tag is not None else []:
            line("transform", f"{step['transform']}  => {step['result']}")
        if component["expectedRef"] is not None:
            line("expected ref", f"{component['expectedRef']} (SL402)")
        else:
            line("expected ref", f"(cannot derive) {component['refProblem']}")
    signers = component["signers"]
    if not signers:
        line("signers", "(none for this component)")
    for index, signer in enumerate(signers):
        described = ", ".join(f"{k} {v!r}" for k, v in signer.items())
        line("signers" if index == 0 else "", described)
    exceptions = doc.get("exceptions")
    if exceptions is not None:
        entries = exceptions["entries"]
        line("exceptions", f"{len(entries)} in {exceptions['file']}" + (":" if entries else ""))
        for e in entries:
            scope = f" on {', '.join(e['platforms'])}" if e["platforms"] else ""
            line(
                "",
                f"#{e['number']} {e['rule']}{scope} expires {e['expires']} ({e['status']}), "
                f"owner {e['owner']}: {e['reason']}",
            )


@app.command("show")
def show(
    image: str = typer.Argument(
        ..., metavar="IMAGE", help="REGISTRY/REPO:TAG, REPO@sha256:HEX or oci:PATH[:TAG]."
    ),
    policy: Path | None = typer.Option(
        None, "--policy", "-p", metavar="FILE", help="Policy file (default: ./slsalint.yaml when present)."
    ),
    exceptions: Path | None = typer.Option(
        None,
        "--exceptions",
        metavar="FILE",
        help="Exceptions file to list the ones for this component (default: the policy's).",
    ),
    fmt: str = typer.Option("text", "--format", "-f", metavar="text|json", help="text or json."),
) -> None:
    """Print the component IMAGE belongs to and the expectations derived for it (no network).

    When no component matches, the components of the policy are listed, with the closest one
    (did you mean ...?). JSON: {image, name, tag, digest, policy, component}, with component null
    and the map as components: {name: [globs]} and didYouMean: [names] when none matches.

    Examples:

    \b
      slsalint components show ghcr.io/rancher/fleet-agent:v0.12.0
      slsalint components show ghcr.io/rancher/fleet-agent:v0.12.0 --policy release/slsalint.yaml
      slsalint components show oci:snapshot --format json
    """
    fmt = text_or_json(fmt)
    loaded = _policy(policy)
    identity = _identity(image)
    match = loaded.components.match(identity)
    doc = _document(identity, match, loaded, _exceptions(exceptions, loaded))
    if fmt == "json":
        sys.stdout.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    else:
        _print_text(doc)
