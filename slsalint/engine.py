"""The pipeline as a library call: targets and a policy in, a Report out.

sources -> envelopes -> schemas -> provenance -> subject matching -> checks -> report.
Nothing here prints or exits; operational failures raise SlsalintError subclasses.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from slsalint import __version__
from slsalint.checks import RULE_ERROR, CheckContext
from slsalint.envelopes import DecodeError, decode_document
from slsalint.errors import InternalError, SlsalintError
from slsalint.model import (
    Attestation,
    EvidenceSource,
    Finding,
    Level,
    Platform,
    PlatformTarget,
    Problem,
    Report,
    Subject,
    Target,
    TargetResult,
)
from slsalint.policy import PlannedRule, Policy, plan_rules
from slsalint.provenance import normalize
from slsalint.schemas import statement_errors
from slsalint.sources.limits import DEFAULT_RUN_TIMEOUT, Limits
from slsalint.sources.oci import Collected, RawEvidence
from slsalint.vsa.predicate import PREDICATE_TYPE as VSA_PREDICATE_TYPE

if TYPE_CHECKING:
    import datetime

    from slsalint.components import Expectation
    from slsalint.diagnose import Explanation
    from slsalint.exceptions import ExceptionsFile
    from slsalint.rego import RegoRuntime
    from slsalint.signing import SigningSettings
    from slsalint.sources.deadline import Budget
    from slsalint.sources.github import GitHubSettings
    from slsalint.sources.registry import RegistryClient
    from slsalint.vsa.accept import VsaAcceptance


@dataclass
class LintRequest:
    """What to check: an ``oci:`` layout reference, or attestation files with an optional subject."""

    target: str | None = None
    attestations: list[Path] = field(default_factory=list)
    subject: str | None = None
    platforms: list[Platform] = field(default_factory=list)
    image_name: str | None = None
    """``--image-name REF``: judge an ``oci:`` layout's image as this registry image (components,
    exceptions and reports see REF pinned to the layout's digest)."""


@dataclass
class RegistrySettings:
    """How registry references are read."""

    offline: bool = False
    insecure: frozenset[str] = frozenset()
    use_cache: bool = True
    cache_dir: Path | None = None
    attestation_repository: str | None = None
    registry_ca: tuple[bytes, ...] = ()
    """DER certificates of ``--registry-ca FILE``: trusted for registries besides the store."""
    timeout: float | None = DEFAULT_RUN_TIMEOUT
    """``--timeout``: seconds the whole run may spend reading registries and GitHub (None: no limit)."""
    limits: Limits = field(default_factory=Limits)
    """Time and size limits of every request and document (``--limit NAME=VALUE``)."""
    progress: Callable[[int], None] | None = None
    """Called with the number of requests made so far (the CLI shows it on a terminal)."""
    progress_target: Callable[[int, int, str], None] | None = None
    """Called with (number, count, reference) when the check of each target starts."""
    github: GitHubSettings | None = None
    """Also read GitHub's attestations API (``--github-attestations``) for every checked digest."""
    fanout: bool = True
    """A wide index's manifests and blobs are sent for ahead by one thread
    (``slsalint.sources.fanout``); False: each request thread sends its own."""

    _budget: Budget | None = field(default=None, init=False, repr=False)

    @property
    def reads_github(self) -> bool:
        return self.github is not None and bool(self.github.owners)

    def adopt_budget(self, budget: Budget) -> None:
        """Use ``budget`` (started earlier, by the command's early client) as the run's."""
        if self._budget is None:
            self._budget = budget

    def budget(self) -> Budget:
        """The run's time budget (``--timeout``), started on first use and shared by all requests."""
        if self._budget is None:
            from slsalint.sources.deadline import Budget

            self._budget = Budget(self.timeout)
        return self._budget


@dataclass
class LintOptions:
    policy: Policy = field(default_factory=Policy)
    packs: list[str] | None = None
    enable: list[str] = field(default_factory=list)
    disable: list[str] = field(default_factory=list)
    fail_on: Level | None = None
    sarif_anchor: str | None = None
    registry: RegistrySettings = field(default_factory=RegistrySettings)
    exceptions: ExceptionsFile | None = None
    """Loaded exceptions (``--exceptions``); None loads the policy's exceptions file, if it names one."""
    today: datetime.date | None = None
    """The date exceptions are judged against (default: today, UTC)."""
    rego: list[Path] = field(default_factory=list)
    """Extra Rego files or directories (``--rego``), in addition to the packs' and the policy's."""
    rego_timeout: float = 10.0
    """Seconds one Rego rule may take on one input document, and the compilation of each module."""
    rego_isolation: str = "in-process"
    """Where the Rego engine runs: ``in-process`` or ``worker`` (a child process per run)."""
    signing: SigningSettings | None = None
    """Signers, required annotations and trust root from the command line; None: the policy's."""
    accept_vsa: VsaAcceptance | None = None
    """``--accept-vsa``: registry images carrying a fresh, valid VSA for this policy pass by it."""


def open_client(settings: RegistrySettings) -> RegistryClient:
    """A registry client configured from the settings (cache, insecure hosts, timeouts)."""
    from slsalint.sources.cache import BlobCache, default_cache_dir
    from slsalint.sources.registry import RegistryClient

    limits = settings.limits
    cache = (
        BlobCache(settings.cache_dir or default_cache_dir(), max_entry=limits.blob_size)
        if settings.use_cache
        else None
    )
    return RegistryClient(
        insecure=settings.insecure,
        cache=cache,
        limits=limits,
        budget=settings.budget(),
        progress=settings.progress,
        registry_ca=settings.registry_ca,
        fanout=settings.fanout,
    )


def collect(
    request: LintRequest,
    *,
    want_sbom: bool,
    settings: RegistrySettings | None = None,
    client: RegistryClient | None = None,
) -> Collected:
    """Read the evidence for one request from its source (and from GitHub's attestations API when
    ``settings.github`` names owners)."""
    settings = settings or RegistrySettings()
    check_github(request, settings)
    try:
        collected = _collect_primary(request, want_sbom=want_sbom, settings=settings, client=client)
        if settings.github is not None and settings.reads_github:
            from slsalint.sources.github import read_github

            read_github(settings.github, collected, budget=settings.budget(), limits=settings.limits)
    except SlsalintError:
        raise
    except Exception as exc:  # a bug: say which input it met, not only the Python error
        what = request.target or ", ".join(str(p) for p in request.attestations) or "the evidence"
        raise InternalError(f"reading {what}", exc) from exc
    return collected


def check_github(request: LintRequest, settings: RegistrySettings) -> None:
    """``--github-attestations`` needs the network and a digest to ask about (else exit 2)."""
    from slsalint.errors import ConfigError

    if not settings.reads_github:
        return
    if settings.offline:
        raise ConfigError(
            "--github-attestations reads GitHub's API and --offline forbids the network; snapshot the "
            "attestations with `slsalint fetch REF -o DIR --github-attestations OWNER/REPO` and check oci:DIR"
        )
    if request.target is None and request.subject is None:
        raise ConfigError(
            "--github-attestations needs a digest to ask about: a TARGET, --subject or --artifact"
        )


def _collect_primary(
    request: LintRequest,
    *,
    want_sbom: bool,
    settings: RegistrySettings,
    client: RegistryClient | None,
) -> Collected:
    if request.target is not None:
        if request.target.startswith("oci:"):
            from slsalint.sources.layout import collect_layout

            return collect_layout(
                request.target,
                platforms=request.platforms or None,
                want_sbom=want_sbom,
                image_name_override=request.image_name,
                limits=settings.limits,
            )
        from slsalint.errors import ConfigError
        from slsalint.sources.reference import parse_reference
        from slsalint.sources.remote import RemoteCollector

        parse_reference(request.target)
        if request.image_name is not None:
            raise ConfigError(
                f"--image-name names the image of an oci: layout; {request.target} is a registry reference"
            )
        if settings.offline:
            raise ConfigError(
                f"{request.target}: --offline cannot read a registry; snapshot it first with "
                f"`slsalint fetch {request.target} -o DIR` and check oci:DIR"
            )
        own = client is None
        active = client or open_client(settings)
        try:
            collector = RemoteCollector(active, attestation_repository=settings.attestation_repository)
            collected, _ = collector.collect(
                request.target, platforms=request.platforms or None, want_sbom=want_sbom
            )
        finally:
            if own:
                active.close()
        return collected
    from slsalint.sources.files import collect_files

    return collect_files(request.attestations, subject=request.subject)


def decode_evidence(evidence: RawEvidence) -> tuple[list[Attestation], str | None]:
    """Decode one piece of raw evidence into attestations, or return the problem."""
    try:
        decoded = decode_document(evidence.data, name=evidence.name, media_type=evidence.media_type)
    except DecodeError as exc:
        return [], str(exc)
    out = []
    for item in decoded:
        statement = item.statement
        predicate_type = statement.get("predicateType")
        source = evidence.source
        if item.line is not None:
            source = EvidenceSource(source.kind, f"{source.location}:{item.line}", source.digest)
        schema_errors = statement_errors(statement)
        errors = tuple(map(str, schema_errors)) if schema_errors else ()
        cosign_layer = bool(evidence.annotations) and item.envelope == "dsse"
        out.append(
            Attestation(
                source=source,
                envelope=item.envelope,
                statement=statement,
                payload=item.payload,
                predicate_type=predicate_type if isinstance(predicate_type, str) else "",
                subjects=_subjects(statement.get("subject")),
                schema_errors=errors,
                provenance=normalize(statement),
                container=item.container,
                annotations=evidence.annotations,
                raw=evidence.data if cosign_layer else None,
            )
        )
    return out, None


def _subjects(value: object) -> tuple[Subject, ...]:
    if not isinstance(value, list):
        return ()
    out = []
    for item in value:
        if isinstance(item, dict):
            name = item.get("name")
            if not isinstance(name, str):
                name = item.get("uri")
            digest = item.get("digest")
            digests = (
                {str(k): v.lower() for k, v in digest.items() if isinstance(v, str)}
                if isinstance(digest, dict)
                else {}
            )
            out.append(Subject(name=name if isinstance(name, str) else "", digest=digests))
    return tuple(out)


def build_target(collected: Collected) -> Target:
    """Decode the collected evidence and bind each attestation to the platforms it names."""
    try:
        return _build_target(collected)
    except SlsalintError:
        raise
    except Exception as exc:  # a bug: say which input it met, not only the Python error
        raise InternalError(f"reading the evidence of {collected.reference}", exc) from exc


def _build_target(collected: Collected) -> Target:
    platform_of = {digest: platform for digest, platform in collected.platforms}
    target = Target(
        reference=collected.reference,
        kind=collected.kind,
        index_digest=collected.index_digest,
        platforms=[PlatformTarget(digest=d, platform=p) for d, p in collected.platforms],
        is_index=collected.is_index,
        orphaned=list(collected.orphaned),
        annotations={digest: dict(values) for digest, values in collected.annotations.items()},
    )
    for source, message, stored_for in collected.problems:
        target.problems.append(Problem(source, message, platform_of.get(stored_for or "")))
    by_digest = {p.digest: p for p in target.platforms}
    bind_all = collected.kind == "artifact" and not any(d for d, _ in collected.platforms)
    for evidence in collected.evidence:
        attestations, problem = decode_evidence(evidence)
        if problem is not None:
            target.problems.append(
                Problem(evidence.source, problem, platform_of.get(evidence.stored_for or ""))
            )
            continue
        for attestation in attestations:
            if attestation.predicate_type == VSA_PREDICATE_TYPE:
                continue  # a verdict about the image, not evidence (slsalint.vsa judges VSAs)
            attestation.stored_for = evidence.stored_for
            if bind_all:
                target.platforms[0].attestations.append(attestation)
                continue
            subjects = attestation.subject_digests()
            if target.index_digest and target.index_digest in subjects:
                attestation.applies_to_index = True
                for platform in target.platforms:
                    platform.attestations.append(attestation)
                continue
            below = {
                d for s in subjects & collected.nested_indexes.keys() for d in collected.platforms_below(s)
            }
            hits = [by_digest[d] for d in sorted(below | subjects) if d in by_digest]
            if hits:
                for platform in hits:
                    platform.attestations.append(attestation)
            elif not subjects & collected.excluded_digests:
                target.unmatched.append(attestation)
    return target


def run_checks(
    target: Target,
    planned: list[PlannedRule],
    expectation: Expectation | None = None,
    *,
    github_read: bool = False,
) -> list[Finding]:
    """Run every planned rule on one target; a rule that raises becomes an SL904 finding.

    ``expectation`` is what the components map expects of the target's image (SL401/SL402);
    ``github_read`` says whether GitHub's attestations API was asked (the SL101 hint differs)."""
    findings: list[Finding] = []
    # One context for the target, set to each rule in turn: a rule's run is over (its findings
    # made, with the values they need copied) before the next rule's starts, and no check keeps
    # its context.
    ctx = CheckContext(target, RULE_ERROR, Level.ERROR, {}, expectation)
    for rule in planned:
        meta = ctx.meta = rule.meta
        ctx.level = rule.level
        ctx.options = rule.options
        try:
            findings.extend(rule.run(ctx))
        except Exception as exc:  # a bug in a check must not pass the gate
            findings.append(
                Finding(
                    rule_id=RULE_ERROR.id,
                    rule_name=RULE_ERROR.name,
                    level=Level.ERROR,
                    message=f"rule {meta.id} ({meta.name}) failed to evaluate: {type(exc).__name__}: {exc}",
                    image=target.reference,
                    digest=target.index_digest,
                    remediation="report this with the output of --debug",
                )
            )
    if not findings:
        return findings
    from slsalint.diagnose import explain_hint

    for finding in findings:
        if target.kind != "image":
            continue  # `slsalint explain` reads images; its hints do not apply to attestation files
        hint = explain_hint(finding.rule_id, github_read=github_read)
        if hint:
            finding.remediation = f"{finding.remediation}; {hint}" if finding.remediation else hint
    return findings


DEFAULT_JOBS_REMOTE = 16
"""Images read at once from registries by default: enough to keep the network busy."""
DEFAULT_JOBS_LOCAL = 4
"""Images read at once from OCI layouts and files by default (local disk)."""


def default_jobs(requests: list[LintRequest]) -> int:
    """``--jobs`` when not given: one for a single image, else enough to keep I/O busy."""
    if len(requests) <= 1:
        return 1
    remote = any(_is_remote(r) for r in requests)
    return min(len(requests), DEFAULT_JOBS_REMOTE if remote else DEFAULT_JOBS_LOCAL)


def _is_remote(request: LintRequest) -> bool:
    return bool(request.target) and not str(request.target).startswith("oci:")


def lint(
    requests: list[LintRequest],
    options: LintOptions,
    *,
    jobs: int | None = None,
    client: RegistryClient | None = None,
    read_all: bool = False,
    observe: Callable[[Collected, Collected, Target], None] | None = None,
) -> Report:
    """Check every request against the policy and return the report.

    ``jobs`` images are read at once (default: ``default_jobs``) with one registry client and
    cache; everything after reading (decoding, signatures, rules, Rego) runs on the calling
    thread, so the report lists the targets in the order of ``requests`` whatever order they
    arrive in. With more than one target, what the report does not show (parsed statements, raw
    layers and envelopes) is dropped once a target is judged, so memory stays bounded by the
    images in flight. The first operational error stops the run (exit 3): unread images are not
    started.

    ``client``: a registry client to use (the caller closes it). ``read_all`` reads SBOM layers
    even when no planned rule needs them, while the checks still judge exactly what ``check``
    reads; ``observe(collected, judged, target)`` is called with everything read, the part of it
    the checks judged, and the target they judged (``explain`` builds its tree from them)."""
    for request in requests:
        check_github(request, options.registry)
    exceptions = options.exceptions
    if exceptions is None and options.policy.exceptions is not None:
        from slsalint.exceptions import load_for_policy

        exceptions = load_for_policy(options.policy.exceptions, options.policy, today=options.today)
    own_client = client is None
    if client is None and any(_is_remote(r) for r in requests) and not options.registry.offline:
        # The first image's manifest and tag list are asked for now, while Rego and the rules load.
        client = _early_client(options.registry) or open_client(options.registry)
        _start_reading(client, requests, options.registry)
    rego: RegoRuntime | None = None
    try:
        rego, enable, disable = _open_rego(options)
        planned, packs = plan_rules(options.policy, packs=options.packs, enable=enable, disable=disable)
    except BaseException:
        if rego is not None:
            rego.close()
        if client is not None and own_client:
            client.close()
        raise
    want_sbom = any(rule.check.id == "SL102" for rule in planned)
    judged: list[tuple[TargetResult, Expectation | None] | None] = [None] * len(requests)
    accepted: set[int] = set()
    lean = len(requests) > 1 and observe is None

    def read(index: int, request: LintRequest) -> Collected | TargetResult:
        if options.registry.progress_target is not None:
            label = request.target or request.subject or "attestation files"
            options.registry.progress_target(index + 1, len(requests), label)
        if options.accept_vsa is not None and client is not None and _is_remote(request):
            from slsalint.vsa.accept import try_accept

            accepted, pinned = try_accept(options.accept_vsa, request, client, exceptions)
            if accepted is not None:
                return accepted  # passed by a VSA: never judged, by exceptions either
            request = replace(request, target=pinned)  # the tag was resolved: check that digest
        return collect(request, want_sbom=want_sbom or read_all, settings=options.registry, client=client)

    def judge(index: int, collected: Collected | TargetResult) -> None:
        if isinstance(collected, TargetResult):
            judged[index] = (collected, None)
            accepted.add(index)
            return
        checked = collected if want_sbom else as_read_for_checks(collected)
        target = build_target(checked)
        if observe is not None:
            observe(collected, checked, target)
        expectation = options.policy.components.resolve(target)
        verify_signatures(target, collected, signing_for(options, expectation))
        findings = run_checks(target, planned, expectation, github_read=options.registry.reads_github)
        result = TargetResult(target=target, findings=findings)
        if rego is not None:
            result.findings.extend(rego.findings(target))
        if lean:
            _drop_unreported(target)
        judged[index] = (result, expectation)

    try:
        workers = min(jobs or default_jobs(requests), len(requests))
        if workers <= 1:
            for index, request in enumerate(requests):
                judge(index, read(index, request))
        else:
            _read_concurrently(requests, read, judge, workers)
    finally:
        if client is not None and own_client:
            client.close()
        if rego is not None:
            rego.close()
    results = [item[0] for item in judged if item is not None]
    resolved = [item for index, item in enumerate(judged) if item is not None and index not in accepted]
    if options.accept_vsa is not None:  # notes in the order of the images, whatever --jobs did
        position = {request.target: index for index, request in enumerate(requests)}
        options.accept_vsa.notes.sort(key=lambda note: position.get(note[0], len(requests)))
    rules = [replace(rule.check.meta(), level=rule.level) for rule in planned]
    if rego is not None:
        rules.extend(rego.rule_metas())
    if exceptions is not None:
        from slsalint.checks import exception_rules
        from slsalint.exceptions import apply_exceptions

        apply_exceptions(
            resolved,
            exceptions,
            today=options.today,
            warning_days=options.policy.exceptions_warning_days,
            levels=options.policy.exception_levels,
        )
        rules.extend(exception_rules(options.policy.exception_levels))
    rules.append(RULE_ERROR)
    from slsalint.report.locate import annotate

    annotate(
        resolved,
        options.policy,
        packs,
        exceptions,
        rego.ruleset.rules if rego is not None else (),
    )
    policy_path = str(options.policy.path) if options.policy.path else None
    return Report(
        tool_version=__version__,
        results=results,
        rules=rules,
        fail_on=options.fail_on or options.policy.fail_on or Level.ERROR,
        policy_path=policy_path,
        sarif_anchor=options.sarif_anchor or policy_path,
        packs=[p.name for p in packs],
        platform_filter=sorted({str(p) for r in requests for p in r.platforms}),
    )


def _early_client(settings: RegistrySettings) -> RegistryClient | None:
    """The client the ``slsalint`` command started reading with before it loaded (``_start``),
    when these are the settings it was made with."""
    if "slsalint._start" not in sys.modules:
        return None
    from slsalint import _start

    return _start.take(settings)


def _start_reading(client: RegistryClient, requests: list[LintRequest], settings: RegistrySettings) -> None:
    """Start the first requests of the first registry image (see ``RemoteCollector.start``)."""
    from slsalint.sources.remote import RemoteCollector

    first = next((r.target for r in requests if r.target and _is_remote(r)), None)
    if first is not None:
        RemoteCollector(client, attestation_repository=settings.attestation_repository).start(first)


def _open_rego(options: LintOptions) -> tuple[RegoRuntime | None, list[str], list[str]]:
    """The run's Rego rules (packs, policy ``rego:`` and ``rules:`` keys, ``--rego``; load errors
    are exit 2) and the ``--enable``/``--disable`` keys left for built-in rules. A run with no Rego
    source at all does not import the Rego machinery."""
    from slsalint.policy import load_pack

    policy = options.policy
    if not (options.rego or policy.rego or policy.rego_rules) and not any(
        load_pack(name).rego for name in options.packs or policy.packs
    ):
        return None, list(options.enable), list(options.disable)
    from slsalint.rego import RegoOptions, open_rego

    return open_rego(
        RegoOptions(
            policy=options.policy,
            packs=options.packs,
            rego=options.rego,
            enable=options.enable,
            disable=options.disable,
            timeout=options.rego_timeout,
            isolation=options.rego_isolation,
        )
    )


def _read_concurrently(
    requests: list[LintRequest],
    read: Callable[[int, LintRequest], Collected | TargetResult],
    judge: Callable[[int, Collected | TargetResult], None],
    workers: int,
) -> None:
    """Read up to ``workers`` requests at once on a thread pool and judge each one on this thread
    as soon as it has been read. At most twice ``workers`` read images wait to be judged."""
    from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="slsalint-read")
    pending: dict[Future[Collected | TargetResult], int] = {}
    queued = iter(enumerate(requests))

    def submit(count: int) -> None:
        for _ in range(count):
            item = next(queued, None)
            if item is None:
                return
            pending[pool.submit(read, item[0], item[1])] = item[0]

    try:
        submit(workers * 2)
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in sorted(done, key=lambda f: pending[f]):
                index = pending.pop(future)
                judge(index, future.result())
            submit(len(done))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _drop_unreported(target: Target) -> None:
    """Free what no report shows once a target is judged: parsed statements, raw layers and the
    envelopes signatures were checked against (the signed payload stays: VSAs name its digest)."""
    for attestation in [a for p in target.platforms for a in p.attestations] + target.unmatched:
        attestation.statement = {}
        attestation.raw = None
        attestation.container = None


def as_read_for_checks(collected: Collected) -> Collected:
    """``collected`` without the evidence layers ``check`` does not read when no rule needs SBOMs
    (layers announcing a predicate other than SLSA provenance), and without their read problems."""
    from slsalint.sources.oci import layer_needed

    skipped = {
        layer.digest
        for node in collected.nodes
        for layer in node.layers
        if not layer_needed({"predicateType": layer.predicate_type or ""}, want_sbom=False)
    }
    if not skipped and all(layer_needed(e.annotations, want_sbom=False) for e in collected.evidence):
        return collected
    return replace(
        collected,
        evidence=[e for e in collected.evidence if layer_needed(e.annotations, want_sbom=False)],
        problems=[p for p in collected.problems if p[0].digest not in skipped],
    )


def explain(request: LintRequest, options: LintOptions | None = None) -> Explanation:
    """Read one image from every source, check it exactly as ``check`` does with the same options
    (policy, packs, signers, exceptions), and diagnose why tools may report missing attestations.

    The explanation's exit code is the check's; the tree shows everything read, SBOMs included."""
    from slsalint.diagnose import Explanation, attach_findings, build_tree, diagnose, not_an_image
    from slsalint.errors import NotAnImage

    options = options or LintOptions()
    settings = options.registry
    assert request.target is not None
    remote = not request.target.startswith("oci:")
    client = open_client(settings) if remote and not settings.offline else None
    seen: list[tuple[Collected, Collected, Target]] = []
    try:
        try:
            report = lint(
                [request],
                options,
                client=client,
                read_all=True,
                observe=lambda collected, judged, target: seen.append((collected, judged, target)),
            )
        except NotAnImage as exc:
            return not_an_image(request.target, exc)
        collected, judged, checked = seen[0]
        if judged is collected:
            target = checked
        else:  # the tree shows the SBOMs check did not need as well
            target = build_target(collected)
            verify_signatures(target, collected, checked.signing)
        parents = _parent_finder(request.target, client) if collected.platforms else None
        repository = None
        if remote:
            from slsalint.sources.reference import parse_reference

            repository = parse_reference(request.target).name
        diagnoses = diagnose(
            collected,
            target,
            image_repository=repository,
            parents=parents,
            github_read=settings.reads_github,
        )
        attach_findings(diagnoses, report)
        return Explanation(target.reference, build_tree(collected, target), diagnoses, report=report)
    finally:
        if client is not None:
            client.close()


def _parent_finder(reference: str, client: RegistryClient | None) -> Callable[[str], list[str]]:
    """Indexes (by reference) that list a manifest digest: tags of the repository, or layout entries."""

    def from_registry(digest: str) -> list[str]:
        from slsalint.sources.reference import parse_reference
        from slsalint.sources.remote import RemoteCollector

        assert client is not None
        ref = parse_reference(reference)
        return [f"{ref.name}:{tag}@{d}" for tag, d in RemoteCollector(client).parents_of(ref, digest)]

    def from_layout(digest: str) -> list[str]:
        from slsalint.sources.layout import OciLayout, parse_layout_ref
        from slsalint.sources.oci import INDEX_TYPES

        layout = OciLayout(parse_layout_ref(reference).path)
        found = []
        for entry in layout.entries:
            if entry.media_type not in INDEX_TYPES:
                continue
            try:
                children = layout.read_document(entry.digest, entry.size).manifests
            except ValueError:
                continue
            if any(child.digest == digest for child in children):
                found.append(f"oci:{layout.path}@{entry.digest}")
        return found

    return from_registry if client is not None else from_layout


def signing_for(options: LintOptions, expectation: Expectation | None) -> SigningSettings:
    """The signing settings for one image: the command line's, else the policy's signers; a
    component that names its own signers replaces them for its images."""
    from slsalint.signing import SigningSettings

    base = options.signing or SigningSettings(signers=list(options.policy.signers))
    if expectation is None:
        return base
    component = expectation.component
    specs = component.signers
    if not specs or (options.signing is not None and options.signing.signers):
        return base
    from slsalint.verify import SignerPolicy

    policies = [
        SignerPolicy.from_mapping(spec.as_json(), name=f"components.{component.name}.signers[{i}]")
        for i, spec in enumerate(specs)
    ]
    annotations = dict(base.annotations)
    for spec in specs:
        annotations.update(spec.annotations)
    return SigningSettings(signers=policies, annotations=annotations, trusted_root=base.trusted_root)


def verify_signatures(target: Target, collected: Collected, settings: SigningSettings) -> None:
    """Verify every signed piece of evidence of ``target`` (offline) and record the settings."""
    from slsalint.signing import verify_target

    target.signing = settings
    signed = any(a.container is not None for p in target.platforms for a in p.attestations)
    signed = signed or any(a.container is not None for a in target.unmatched) or bool(collected.signatures)
    # Evidence that could not be read may still carry a signature that does not verify (SL202).
    if signed or target.problems:
        verify_target(target, collected, settings)
