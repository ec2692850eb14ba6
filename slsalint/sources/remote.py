"""Every piece of evidence a registry holds for an image, read concurrently and merged.

Sources (SPEC §3): BuildKit attestation manifests in the index (classic and artifact forms), cosign
``sha256-HEX.att`` tags (optionally in another repository), OCI referrers (API with the
``sha256-HEX`` fallback tag), and Sigstore bundle referrers. The reference is resolved to a digest
once. Indexes nested in the image index are followed (``--limit index-depth``), and every checked
platform manifest is read and checked against its digest.

Fail closed: a fault while reading (unreachable, timeout, refused, retries exhausted) ends the
check with exit 3, whatever it was reading; evidence whose bytes arrived broken (digest mismatch,
malformed JSON, missing) is a problem of the target (SL105). An image or platform manifest that
cannot be read is exit 3 too: nothing partial is judged.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, wait
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from slsalint import jsonio
from slsalint.errors import ConfigError, NotAnImage, OperationalError
from slsalint.model import EvidenceSource, Platform
from slsalint.sources.fanout import Answer, Follow, Prefetch
from slsalint.sources.limits import Limits
from slsalint.sources.oci import (
    IMAGE_CONFIG_TYPES,
    INDEX_TYPES,
    Collected,
    Descriptor,
    Document,
    DocumentError,
    IndexWalk,
    artifact_of,
    check_platform_manifest,
    digest_of,
    image_named_by,
    location,
    manifest_node,
    parse_document,
    record_annotations,
    referrer_kind,
    wanted_layers,
)
from slsalint.sources.pool import RequestPool
from slsalint.sources.reference import ImageRef, parse_reference, parse_repository
from slsalint.sources.registry import BadContent, Fetched, NotFound, RegistryClient, RegistryError

T = TypeVar("T")

PRESTARTED_THREADS = 32
"""Request threads started while an image's first answer is awaited (more start as needed)."""

LayerJob = tuple[ImageRef, Descriptor, str, str, str]
"""(repository, layer, stored-for digest, evidence kind, location)."""


@dataclass
class Snapshot:
    """Every manifest and blob read, so ``slsalint fetch`` can write them to a layout."""

    image: Fetched | None = None
    manifests: dict[str, Fetched] = field(default_factory=dict)
    blobs: dict[str, bytes] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    """Side tags (``sha256-HEX.att``, ``.sig``, fallback referrers tags) -> manifest digest."""
    referrers: dict[str, list[str]] = field(default_factory=dict)
    """Subject digest -> referrer manifest digests."""
    locations: dict[str, str] = field(default_factory=dict)
    """Evidence manifest digest -> the location its evidence is reported from (kept offline)."""
    platform_manifests: list[str] = field(default_factory=list)
    """Digests of the platform manifests and nested indexes of the image (always snapshotted)."""


class RemoteCollector:
    def __init__(
        self,
        client: RegistryClient,
        *,
        attestation_repository: str | None = None,
    ) -> None:
        self.client = client
        self.attestation_repository = attestation_repository
        self._side = parse_repository(attestation_repository) if attestation_repository else None

    @property
    def limits(self) -> Limits:
        return self.client.limits

    def resolve(self, ref: ImageRef) -> Fetched:
        """The manifest the reference names, fetched once (tags resolve to a digest here)."""
        try:
            return self.client.get_manifest(ref, ref.digest or ref.tag or "latest")
        except NotFound:
            what = f"digest {ref.digest}" if ref.digest else f"tag {ref.tag!r}"
            raise ConfigError(f"{ref}: {what} not found in {ref.name}") from None

    def start(self, text: str) -> None:
        """Start the first requests of ``collect(text)`` (the image and the side repository's tag
        list) now, while the run loads what only later steps need; ``collect`` takes their
        answers. A reference that does not parse starts nothing (``collect`` says what is wrong)."""
        try:
            ref = parse_reference(text)
        except (ConfigError, ValueError):
            return
        self.client.start_manifest(ref, ref.digest or ref.tag or "latest")
        self.client.start_tag_list(self._side_repository(ref))
        self.client.executor().prestart(PRESTARTED_THREADS)

    def _side_repository(self, ref: ImageRef) -> ImageRef:
        """cosign's COSIGN_REPOSITORY: the .sig/.att tags, the referrers (API and fallback tag)
        and the Sigstore bundles they list are all read from the attestation repository, on the
        registry it names (the image's registry when it names none)."""
        return ref if self._side is None else self._side.on(ref.registry)

    def collect(
        self, text: str, *, platforms: list[Platform] | None = None, want_sbom: bool = True
    ) -> tuple[Collected, Snapshot]:
        ref = parse_reference(text)
        snapshot = Snapshot()
        side_repo = self._side_repository(ref)
        pool = _Batch(self.client.executor(), self.client.judges())
        try:
            # The side repository's tag list is asked together with the image: which of the
            # sha256-HEX.att/.sig and fallback referrers tags exist is then known when the image's
            # answer arrives, instead of a probe per tag after it.
            listing = pool.submit(self._listed_tags, side_repo)
            # Threads for the requests the image's answer will name, started while it is awaited.
            self.client.executor().prestart(PRESTARTED_THREADS)
            started = time.monotonic()
            image = self.resolve(ref)
            waited = time.monotonic() - started
            snapshot.image = image
            pinned = ref.with_digest(image.digest)
            where = str(pinned)
            try:
                document = image.document(what=where)
            except DocumentError as exc:
                raise OperationalError(str(exc)) from None
            collected = Collected(
                reference=where, kind="image", index_digest=None, platforms=[], repository=pinned.name
            )
            collected.image_size = len(image.data)
            collected.image_media_type = image.media_type
            self._reject_artifact(ref, image, document)
            tags = _Tags(listing, waited)
            self._collect(
                pool, ref, pinned, side_repo, image, document, collected, snapshot, platforms, want_sbom, tags
            )
        finally:
            # On a fault, requests not started yet are dropped; those running end at their deadline.
            pool.shutdown()
        return collected, snapshot

    def _listed_tags(self, repo: ImageRef) -> frozenset[str] | None:
        """The repository's tags when the registry lists them all in one answer; None when it
        cannot or will not (no listing, access to it refused, paged, broken, a fault): each tag
        is then asked for, as if no list had been asked."""
        try:
            return self.client.tag_list(repo)
        except RegistryError:
            return None

    def _collect(
        self,
        pool: _Batch,
        ref: ImageRef,
        pinned: ImageRef,
        side_repo: ImageRef,
        image: Fetched,
        document: Document,
        collected: Collected,
        snapshot: Snapshot,
        platforms: list[Platform] | None,
        want_sbom: bool,
        tags: _Tags,
    ) -> None:
        where = str(pinned)
        ahead = _Ahead(pool, self.client, want_sbom)
        attestation_descs: list[tuple[Descriptor, str | None]] = []
        platform_descs: list[Descriptor] = []
        if document.is_index:
            walk = IndexWalk(
                collected,
                where,
                platforms,
                max_depth=self.limits.index_depth,
                max_entries=self.limits.index_entries,
            )
            walk.start(document, image.digest)
            while pending := walk.next_pending():
                nested_results = self._all(
                    pool, [partial(self.client.get_manifest, pinned, d.digest, d.size) for d, _ in pending]
                )
                for (descriptor, depth), result in zip(pending, nested_results, strict=True):
                    nested = self._required(where, "nested index", descriptor, result)
                    snapshot.manifests[descriptor.digest] = nested
                    snapshot.platform_manifests.append(descriptor.digest)
                    try:
                        walk.add(nested.document(what=f"{where}: nested index"), descriptor.digest, depth)
                    except DocumentError as exc:
                        raise OperationalError(str(exc)) from None
            walk.finish()
            attestation_descs = walk.attestations
            platform_descs = walk.manifests
        else:
            # The platform (from the config) is read alongside the evidence, not before it.
            platform_of = pool.submit(self._platform_of, pinned, document)
            collected.platforms.append((image.digest, None))
            record_annotations(collected, image.digest, document.annotations)

        checked = [d for d, _ in collected.platforms]
        subjects = ([image.digest] if collected.is_index else []) + list(collected.nested_indexes) + checked
        wanted_for = set(subjects)
        seen_manifests: set[str] = {d.digest for d, _ in attestation_descs}

        # Referrers of the image digests and of the attestation manifests (Sigstore bundles
        # signing them). Until the registry has shown which it has, the API is asked for the
        # first subject, and for the others once its answer shows the API is there; the
        # sha256-HEX fallback tags are asked for at once (only those the tag list names, when
        # the registry listed its tags).
        att_jobs = [(d, s) for d, s in attestation_descs if s is None or s in wanted_for]
        ref_subjects = subjects + [d.digest for d, _ in att_jobs]
        api_known = self.client.referrers_api.get(side_repo.api_host)

        def ask_api(digest: str) -> Future[list[Descriptor] | RegistryError | None]:
            return pool.submit(self._safe, partial(self._referrers_api, side_repo, digest))

        api_futures: list[Future[list[Descriptor] | RegistryError | None] | None]
        api_futures = [None] * len(ref_subjects)
        if api_known is True:
            for number, digest in enumerate(ref_subjects):
                api_futures[number] = ask_api(digest)
        elif api_known is None and ref_subjects:
            first = api_futures[0] = ask_api(ref_subjects[0])
            absent = self._referrers_api_absent(side_repo)
            for number, digest in enumerate(ref_subjects[1:], 1):
                api_futures[number] = pool.after(first, partial(ask_api, digest), absent)
        skip = {d.digest for d, _ in attestation_descs}
        for api_future in api_futures:
            if api_future is not None:
                ahead.referrers_when_listed(side_repo, api_future, skip)

        # The tag list, asked with the image, is in by now (or waited for briefly) before the round
        # that it decides is sent: a list answered while a round's requests hold the interpreter
        # would wait for them.
        listed = tags.wait()

        # Round 2: platform manifests, attestation manifests, cosign tags, referrers - all at once;
        # the layers of each evidence manifest are asked for as soon as it arrives (``ahead``).
        with self.client.prefetch_batch():
            platform_futures = [
                pool.submit_when(
                    self.client.prefetch(pinned, "manifest", d.digest, d.size),
                    self._safe,
                    partial(self.client.get_manifest, pinned, d.digest, d.size),
                )
                for d in platform_descs
            ]
            att_futures = []
            for d, stored_for in att_jobs:
                future = ahead.manifest(pinned, d.digest, d.size, kind="buildkit-attestation-manifest")
                ahead.layers_when_read(
                    pinned, future, "buildkit-attestation-manifest", stored_for, wanted_for
                )
                att_futures.append(future)
        tag_jobs = [
            (digest, suffix)
            for digest in subjects
            for suffix in (".att", ".sig")
            if listed is None or digest.replace(":", "-") + suffix in listed
        ]
        tag_futures = []
        for digest, suffix in tag_jobs:
            tag = digest.replace(":", "-") + suffix
            tag_future = pool.submit(self._safe, partial(self.client.tag_exists, side_repo, tag))
            kind = "cosign-att" if suffix == ".att" else "cosign-sig"
            ahead.layers_when_read(side_repo, tag_future, kind, digest, wanted_for, sbom=suffix == ".sig")
            tag_futures.append(tag_future)
        fallback_futures = [
            None
            if api_known is True or (listed is not None and d.replace(":", "-") not in listed)
            else pool.submit(self._safe, partial(self._referrers_fallback, side_repo, d))
            for d in ref_subjects
        ]
        for descriptor, future in zip(platform_descs, platform_futures, strict=True):
            fetched = self._required(where, "platform manifest", descriptor, future.result())
            try:
                check_platform_manifest(
                    descriptor, fetched.data, what=f"{where}: platform manifest {descriptor.digest}"
                )
            except DocumentError as exc:
                raise OperationalError(str(exc)) from None
            snapshot.manifests[descriptor.digest] = fetched
            snapshot.platform_manifests.append(descriptor.digest)
        if not document.is_index:
            collected.platforms[0] = (image.digest, platform_of.result())
        att_results = [f.result() for f in att_futures]
        tag_results = [f.result() for f in tag_futures]
        ref_results = [
            self._combine_referrers(side_repo, digest, _result(api), _result(fallback))
            for digest, api, fallback in zip(ref_subjects, api_futures, fallback_futures, strict=True)
        ]
        for answer in (_result(api) for api in api_futures if api is not None):
            if not isinstance(answer, RegistryError):
                self.client.note_referrers_api(side_repo.api_host, answer is not None)
                break

        layer_jobs: list[LayerJob] = []
        for (descriptor, stored_for), result in zip(att_jobs, att_results, strict=True):
            kind = "buildkit-attestation-manifest"
            place = collected.location_of(descriptor.digest)
            source = EvidenceSource(kind, place, descriptor.digest)
            if isinstance(result, Exception):
                collected.problems.append((source, f"attestation manifest: {result}", stored_for))
                continue
            snapshot.manifests[descriptor.digest] = result
            snapshot.locations[descriptor.digest] = place
            manifest = self._document(result, collected, source, stored_for)
            if manifest is None:
                continue
            if stored_for is None and manifest.subject is not None:
                stored_for = manifest.subject.digest
            if stored_for is None:
                collected.problems.append(
                    (
                        source,
                        "attestation manifest names no image (no vnd.docker.reference.digest or subject)",
                        None,
                    )
                )
                continue
            if stored_for not in wanted_for:
                continue
            layer_jobs += self._layers(
                pinned, descriptor, manifest, stored_for, kind, collected, place, want_sbom
            )

        for (digest, suffix), tag_result in zip(tag_jobs, tag_results, strict=True):
            tag = digest.replace(":", "-") + suffix
            kind = "cosign-att" if suffix == ".att" else "cosign-sig"
            place = f"{side_repo.name}:{tag}"
            source = EvidenceSource(kind, place)
            if isinstance(tag_result, Exception):
                collected.problems.append((source, f"cosign {suffix} tag: {tag_result}", digest))
                continue
            if tag_result is None:
                continue
            snapshot.tags[tag] = tag_result.digest
            snapshot.manifests[tag_result.digest] = tag_result
            snapshot.locations[tag_result.digest] = place
            source = EvidenceSource(kind, place, tag_result.digest)
            manifest = self._document(tag_result, collected, source, digest)
            if manifest is None:
                continue
            descriptor = Descriptor(tag_result.media_type, tag_result.digest, len(tag_result.data))
            layer_jobs += self._layers(
                side_repo, descriptor, manifest, digest, kind, collected, place, want_sbom or suffix == ".sig"
            )

        referrer_jobs: list[tuple[str, Descriptor]] = []
        for digest, ref_result in zip(ref_subjects, ref_results, strict=True):
            source = EvidenceSource("referrer", location(side_repo.name, digest))
            if isinstance(ref_result, Exception):
                collected.problems.append((source, f"referrers: {ref_result}", digest))
                continue
            listing, fallback, api = ref_result
            if digest in wanted_for:
                collected.referrers_api = api
            if fallback is not None and digest in wanted_for:
                collected.fallback_tags.append(digest.replace(":", "-"))
                snapshot.tags[digest.replace(":", "-")] = fallback.digest
                snapshot.manifests[fallback.digest] = fallback
            snapshot.referrers[digest] = [item.digest for item in listing]
            for item in listing:
                if item.digest in seen_manifests:
                    continue
                seen_manifests.add(item.digest)
                referrer_jobs.append((digest, item))

        # Round 3: referrer manifests (and the signatures of attestation manifests among them).
        ref_manifests = [
            ahead.manifest(side_repo, item.digest, item.size).result() for _, item in referrer_jobs
        ]
        for (digest, item), result in zip(referrer_jobs, ref_manifests, strict=True):
            place = location(side_repo.name, item.digest)
            source = EvidenceSource("referrer", place, item.digest)
            if isinstance(result, Exception):
                collected.problems.append((source, f"referrer manifest: {result}", digest))
                continue
            snapshot.manifests[item.digest] = result
            snapshot.locations[item.digest] = place
            manifest = self._document(result, collected, source, digest)
            if manifest is None:
                continue
            descriptor = Descriptor(
                result.media_type,
                item.digest,
                len(result.data),
                artifact_type=manifest.artifact_type or item.artifact_type,
            )
            kind = referrer_kind(manifest, item)
            layer_jobs += self._layers(
                side_repo, descriptor, manifest, digest, kind, collected, place, want_sbom
            )

        # Round 4: every evidence layer (most already asked for as their manifest arrived).
        blob_futures = [ahead.blob(repo, layer) for repo, layer, *_ in layer_jobs]
        blobs = [future.result() for future in blob_futures]
        for (_, layer, stored_for, kind, place), blob in zip(layer_jobs, blobs, strict=True):
            source = EvidenceSource(kind, place, layer.digest)
            if isinstance(blob, Exception):
                collected.problems.append((source, f"attestation layer: {blob}", stored_for))
                continue
            snapshot.blobs[layer.digest] = blob
            collected.add_layer(source, layer, blob, stored_for, kind)

    # -- helpers -------------------------------------------------------------------------------

    def _referrers_api(self, repo: ImageRef, digest: str) -> list[Descriptor] | None:
        """The referrers API's answer for ``digest`` (None: the registry has no such API). Not
        asked once an earlier answer showed that the registry has none; the first answer is
        noted at once, for the probes still queued."""
        if self.client.referrers_api.get(repo.api_host) is False:
            return None
        answer = self.client.referrers(repo, digest)
        self.client.note_referrers_api(repo.api_host, answer is not None)
        return answer

    def _referrers_api_absent(self, repo: ImageRef) -> Callable[[], bool]:
        """Whether the registry has shown it has no referrers API (then it is not asked again)."""
        return lambda: self.client.referrers_api.get(repo.api_host) is False

    def _referrers_fallback(self, repo: ImageRef, digest: str) -> Fetched | None:
        """The ``sha256-HEX`` fallback tag; not asked once the registry has shown it answers the
        referrers API (whose answer is then the one used: ``_combine_referrers``)."""
        if self.client.referrers_api.get(repo.api_host) is True:
            return None
        return self.client.tag_exists(repo, digest.replace(":", "-"))

    def _all(self, pool: _Batch, calls: list[Callable[[], T]]) -> list[T | RegistryError]:
        futures: list[Future[T | RegistryError]] = [pool.submit(self._safe, call) for call in calls]
        return [future.result() for future in futures]

    @staticmethod
    def _safe(func: Callable[[], T]) -> T | RegistryError:
        """The result, or the error when the bytes were missing or broken (SL105 for evidence);
        any other fault (unreachable, timeout, refused, retries exhausted) is raised: exit 3."""
        try:
            return func()
        except (BadContent, NotFound) as exc:
            return exc

    @staticmethod
    def _required(where: str, what: str, descriptor: Descriptor, result: Fetched | RegistryError) -> Fetched:
        """A manifest the check cannot do without (platform manifests, nested indexes): exit 3."""
        if isinstance(result, RegistryError):
            platform = f" ({descriptor.platform})" if descriptor.platform else ""
            if isinstance(result, NotFound):
                reason = "is missing from the registry (HTTP 404)"
            else:  # the error names the repository and digest again: keep what went wrong
                reason = str(result).split(": ", 1)[-1].replace(f"{descriptor.digest}: ", "")
                reason = f"cannot be read: {reason}"
            raise OperationalError(f"{where}: {what} {descriptor.digest}{platform} {reason}")
        return result

    @staticmethod
    def _combine_referrers(
        ref: ImageRef,
        digest: str,
        api: list[Descriptor] | RegistryError | None,
        fallback: Fetched | RegistryError | None,
    ) -> tuple[list[Descriptor], Fetched | None, bool] | RegistryError:
        """(referrer descriptors, the fallback tag's index if it was used, whether the API answered)."""
        if isinstance(api, RegistryError):
            return api
        if api is not None:
            return api, None, True
        if isinstance(fallback, RegistryError):
            return fallback
        if fallback is None:
            return [], None, False
        tag = digest.replace(":", "-")
        try:
            document = fallback.document(what=f"{ref.name}: referrers fallback tag {tag}")
        except DocumentError as exc:
            return BadContent(str(exc))
        if not document.is_index:
            return [], None, False  # a tag of that name for something else: it lists no referrers
        return list(document.manifests), fallback, False

    def _platform_of(self, ref: ImageRef, manifest: Document) -> Platform | None:
        """The platform of a single-manifest image, from its config (as the layout reader does)."""
        config = manifest.config
        if config is None or config.media_type not in IMAGE_CONFIG_TYPES:
            return None
        try:
            data = self.client.get_blob(ref, config.digest, config.size)
            document = jsonio.load_object(data)
        except (BadContent, NotFound, jsonio.JSONError):
            return None
        platform = Platform.from_descriptor(document)
        return platform if platform and platform.os and platform.architecture else None

    @staticmethod
    def _document(
        fetched: Fetched, collected: Collected, source: EvidenceSource, stored_for: str | None
    ) -> Document | None:
        try:
            return fetched.document(what=f"manifest {fetched.digest}")
        except DocumentError as exc:
            collected.problems.append((source, str(exc), stored_for))
            return None

    @staticmethod
    def _layers(
        repo: ImageRef,
        descriptor: Descriptor,
        manifest: Document,
        stored_for: str,
        kind: str,
        collected: Collected,
        place: str,
        want_sbom: bool,
    ) -> list[LayerJob]:
        collected.nodes.append(manifest_node(kind, descriptor, manifest, stored_for, place))
        return [
            (repo, layer, stored_for, kind, place)
            for layer in wanted_layers(manifest, kind, want_sbom=want_sbom)
        ]

    def _reject_artifact(self, ref: ImageRef, image: Fetched, document: Document) -> None:
        """A ``.sig``/``.att`` tag, a BuildKit attestation manifest or a referrer artifact is not an
        image: say what it is and which image to check instead."""
        artifact = artifact_of(document, ref.tag)
        if artifact is None:
            return
        target = artifact.image
        if target is None and artifact.what == "a BuildKit attestation manifest":
            parents = self.parents_of(ref, image.digest)
            target = parents[0][1] if parents else None
        if target is None and artifact.layer is not None:
            try:
                target = image_named_by(self.client.get_blob(ref, artifact.layer.digest, artifact.layer.size))
            except (BadContent, NotFound):
                target = None
        belongs_to = f"{ref.name}@{target}" if target else None
        hint = f"; check the image it belongs to: {belongs_to}" if belongs_to else ""
        raise NotAnImage(
            f"{ref}: is {artifact.what}, not an image{hint}", what=artifact.what, image=belongs_to
        )

    def parents_of(self, ref: ImageRef, digest: str, *, tags: int = 30) -> list[tuple[str, str]]:
        """(tag, digest) of the image indexes, among the repository's first tags, listing ``digest``."""
        found: list[tuple[str, str]] = []
        try:
            names = [t for t in self.client.list_tags(ref) if not t.startswith("sha256-")][:tags]
        except (BadContent, NotFound):
            return found
        for tag in names:
            try:
                fetched = self.client.get_manifest(ref, tag)
                if fetched.media_type not in INDEX_TYPES:
                    continue
                children = fetched.document().manifests
            except (BadContent, NotFound, DocumentError):
                continue
            if any(child.digest == digest for child in children):
                found.append((tag, fetched.digest))
        return found


class _Batch:
    """The requests of one image, on the client's shared threads. ``shutdown`` drops those not
    started yet (after a fault) and waits for those running (they end at their deadline); nothing
    is sent for the image after it."""

    def __init__(self, executor: RequestPool, judges: RequestPool | None = None) -> None:
        self._executor = executor
        self._judges = judges or executor
        self._futures: list[Future[Any]] = []
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, func: Callable[..., T], *args: Any, judge: bool = False) -> Future[T]:
        with self._lock:
            if self._closed:
                future: Future[T] = Future()
                future.cancel()
                return future
            future = (self._judges if judge else self._executor).submit(func, *args)
            self._futures.append(future)
            return future

    def submit_when(self, sent: Prefetch | None, func: Callable[..., T], *args: Any) -> Future[T]:
        """``submit(func, *args)``, once the answer of ``sent`` (its request, sent ahead by the
        fan-out thread) is in: a request thread is taken when there is an answer to judge, not
        to wait with, so a round's requests leave without a hundred threads in their way."""
        if sent is None:
            return self.submit(func, *args)
        out: Future[T] = Future()
        with self._lock:
            if self._closed:
                out.cancel()
                return out
            self._futures.append(out)

        def go() -> None:
            if not out.set_running_or_notify_cancel():
                return
            # A 200 answer in: judged by one of a few threads; anything else (no answer, an
            # error, a redirect, a challenge) may mean requests: a request thread of its own.
            inner = self.submit(func, *args, judge=sent.answered_ok)
            inner.add_done_callback(partial(_copy_result, out))

        sent.when_done(go)
        return out

    def after(
        self, first: Future[Any], then: Callable[[], Future[T]], otherwise: Callable[[], bool]
    ) -> Future[T | None]:
        """A future for ``then()``, started once ``first`` has ended; its result is None instead
        when ``otherwise()`` says so at that time (``first`` failed: its error, for whoever asks)."""
        out: Future[T | None] = Future()
        with self._lock:
            self._futures.append(out)

        def go(done: Future[Any]) -> None:
            if done.cancelled() or not out.set_running_or_notify_cancel():
                out.cancel()
                return
            error = done.exception()
            if error is not None:
                out.set_exception(error)
                return
            if otherwise():
                out.set_result(None)
                return
            inner = then()
            inner.add_done_callback(partial(_copy_result, out))

        first.add_done_callback(go)
        return out

    def shutdown(self) -> None:
        with self._lock:
            self._closed = True
            futures = list(self._futures)
        for future in futures:
            future.cancel()
        wait(futures)


def _copy_result(out: Future[Any], inner: Future[T]) -> None:
    if inner.cancelled():
        out.set_exception(OperationalError("the request was dropped after a fault"))
        return
    error = inner.exception()
    if error is not None:
        out.set_exception(error)
    else:
        out.set_result(inner.result())


class _Tags:
    """The side repository's tag list, asked for together with the image. Waited for at most as
    long again as the image's own answer took (at least 250 ms): a registry slow to list its
    tags gets each tag asked for instead, as if it listed none."""

    def __init__(self, listing: Future[frozenset[str] | None], waited: float) -> None:
        self._listing = listing
        self._timeout = max(0.25, waited)

    def wait(self) -> frozenset[str] | None:
        try:
            return self._listing.result(timeout=self._timeout)
        except TimeoutError:
            return None


class _Ahead:
    """Manifests and blobs asked for as soon as the answer naming them arrives, each once; the
    ordered processing of ``_collect`` then takes their results (and reports their problems)
    in its own order. Only what that processing is sure to read is asked for ahead."""

    def __init__(self, pool: _Batch, client: RegistryClient, want_sbom: bool) -> None:
        self._pool = pool
        self._client = client
        self._want_sbom = want_sbom
        self._lock = threading.Lock()
        self._asked: dict[tuple[str, str, str], Future[Any]] = {}

    def manifest(
        self, repo: ImageRef, digest: str, size: int | None, *, kind: str | None = None
    ) -> Future[Fetched | RegistryError]:
        """The manifest, asked for once; ``kind``: an evidence manifest of that kind, whose wanted
        layers the fan-out thread asks for as soon as its answer arrives (``_layers_ahead``)."""
        follow = None if kind is None else self._layers_ahead(repo, digest, kind)
        return self._once(
            "manifest",
            repo,
            digest,
            partial(self._client.get_manifest, repo, digest, size),
            partial(self._client.prefetch, repo, "manifest", digest, size, follow),
        )

    def blob(self, repo: ImageRef, layer: Descriptor) -> Future[bytes | RegistryError]:
        return self._once(
            "blob",
            repo,
            layer.digest,
            partial(self._client.get_blob, repo, layer.digest, layer.size),
            partial(self._client.prefetch, repo, "blob", layer.digest, layer.size),
        )

    def _once(
        self,
        what: str,
        repo: ImageRef,
        digest: str,
        call: Callable[[], T],
        ahead: Callable[[], Prefetch | None],
    ) -> Future[T | RegistryError]:
        key = (what, repo.name, digest)
        with self._lock:
            future = self._asked.get(key)
            if future is None:
                # On the wire now; a request thread takes the call once the answer is in.
                future = self._asked[key] = self._pool.submit_when(ahead(), RemoteCollector._safe, call)
            return future

    def _layers_ahead(self, repo: ImageRef, digest: str, kind: str) -> Follow:
        """What the fan-out thread does with an evidence manifest's answer (parsed): when it is
        a 200 answer whose body hashes to ``digest`` and parses as a manifest, the layers
        ``wanted_layers`` names are sent for. A guess only: the request thread judges the
        manifest, and each layer is read (and its answer taken) only if that judgement asks
        for it."""

        def follow(answer: Answer) -> None:
            status, headers, body = answer
            if status != 200 or any(name.lower() == b"content-encoding" for name, _ in headers):
                return
            if digest_of(body, digest.split(":")[0]) != digest:
                return
            document = parse_document(body, what=digest)
            for layer in wanted_layers(document, kind, want_sbom=self._want_sbom):
                self._client.prefetch(repo, "blob", layer.digest, layer.size)

        return follow

    def layers_when_read(
        self,
        repo: ImageRef,
        future: Future[Fetched | RegistryError] | Future[Fetched | RegistryError | None],
        kind: str | None,
        stored_for: str | None,
        wanted_for: set[str] | None,
        *,
        sbom: bool = False,
        listed: Descriptor | None = None,
    ) -> None:
        """Once ``future``'s manifest arrives, ask for the layers ``_collect`` will read from it
        (for an attestation manifest, only when it is stored for a checked digest; ``kind`` None:
        a referrer, of the kind its manifest and ``listed`` descriptor say)."""

        def read(done: Future[Any]) -> None:
            if done.cancelled() or done.exception() is not None:
                return
            fetched = done.result()
            if not isinstance(fetched, Fetched):
                return
            try:
                manifest = fetched.document(what=f"manifest {fetched.digest}")
            except DocumentError:
                return  # reported by the ordered processing
            subject = stored_for
            if subject is None and manifest.subject is not None:
                subject = manifest.subject.digest
            if wanted_for is not None and subject not in wanted_for:
                return
            for layer in wanted_layers(
                manifest, kind or referrer_kind(manifest, listed), want_sbom=self._want_sbom or sbom
            ):
                self.blob(repo, layer)

        future.add_done_callback(read)

    def referrers_when_listed(
        self, repo: ImageRef, future: Future[list[Descriptor] | RegistryError | None], skip: set[str]
    ) -> None:
        """Once the referrers API lists ``future``'s referrers, ask for their manifests (and, as
        each arrives, its layers); those in ``skip`` are read another way."""

        def listed(done: Future[Any]) -> None:
            if done.cancelled() or done.exception() is not None:
                return
            items = done.result()
            if not isinstance(items, list):
                return
            for item in items:
                if item.digest not in skip:
                    manifest = self.manifest(repo, item.digest, item.size)
                    self.layers_when_read(repo, manifest, None, None, None, listed=item)

        future.add_done_callback(listed)


def _result(future: Future[T] | None) -> T | None:
    return None if future is None else future.result()
