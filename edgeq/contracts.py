"""Contracts between the core and target plugins: Target, Runner, Artifact, ProfileReport.

A target plugin returns :class:`Target` objects from its ``register_targets`` hook and
runner factories from ``register_runners``. The core never imports a plugin; it only
talks to these contracts.

Artifact layout: a directory holding the emitted files and ``manifest.json``::

    {"schema": 1, "target": "tflite", "profile": "tflite", "edgeq_version": "…",
     "files": {"model.tflite": {"sha256": "…", "bytes": 123}},
     "inputs":  [{"name": "x", "shape": [1,3,224,224], "dtype": "float32", "quant": {…}|null}],
     "outputs": [...],
     "tool_versions": {"ai-edge-litert": "…"},
     "calibration_fingerprint": "…", "options": {...}}
"""

from __future__ import annotations

import abc
import functools
import hashlib
import inspect
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from edgeq.errors import ArtifactError, BuildError, TargetUnavailableError, UsageError, first_line
from edgeq.types import NodePlacement, QuantSpec

MANIFEST_NAME = "manifest.json"
#: files of an artifact directory that record *how a build went* (timings, when) rather
#: than what it made: not hashed into the manifest, so that the same inputs give the same
#: manifest bytes (edgeq/staging.py writes build_report.json; edgeq profile the reports)
UNHASHED_FILES = frozenset({"build_report.json", "report.json", "report.md", "report.html"})
MANIFEST_SCHEMA = 1


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass
class Artifact:
    """A built, deployable directory and its manifest.

    ``manifest`` describes *what* was built and is hashed into manifest.json, so it must
    hold only what the inputs determine; ``timings`` (seconds of the target's own steps,
    e.g. ``{"compile_s": 0.4}``) say how long the build took and go to the unhashed
    build_report.json, so two builds of the same inputs give the same manifest bytes."""

    path: Path
    manifest: dict[str, Any]
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def target(self) -> str:
        return self.manifest["target"]

    def file(self, name: str) -> Path:
        return self.path / name

    def write_manifest(self) -> None:
        """Fill ``files`` with sha256/size of every file (but the build and profile reports,
        :data:`UNHASHED_FILES`) and write ``manifest.json``."""
        files = {}
        for f in sorted(self.path.rglob("*")):
            rel_top = f.relative_to(self.path).as_posix()
            if f.is_file() and f.name != MANIFEST_NAME and rel_top not in UNHASHED_FILES:
                rel = f.relative_to(self.path).as_posix()
                files[rel] = {"sha256": sha256_file(f), "bytes": f.stat().st_size}
        self.manifest.setdefault("schema", MANIFEST_SCHEMA)
        self.manifest["files"] = files
        (self.path / MANIFEST_NAME).write_text(json.dumps(self.manifest, indent=2, sort_keys=True))

    @classmethod
    def load(cls, path: str | Path) -> "Artifact":
        """Read ``path/manifest.json``: a JSON object naming its ``target``, else
        ArtifactError (a BuildError) naming the file."""
        path = Path(path)
        mf = path / MANIFEST_NAME
        if not mf.is_file():
            raise ArtifactError(f"{path}: not an edgeq artifact (no {MANIFEST_NAME}); "
                                "build one with 'edgeq build'")
        try:
            manifest = json.loads(mf.read_bytes().decode("utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
            raise ArtifactError(f"{mf}: invalid JSON ({first_line(exc)}); rebuild the artifact") from None
        except OSError as exc:
            raise ArtifactError(f"{mf}: cannot be read ({exc.strerror or exc}); check its "
                                "permissions or rebuild the artifact") from None
        if not isinstance(manifest, dict) or not isinstance(manifest.get("target"), str):
            raise ArtifactError(f"{mf}: not an edgeq manifest (a JSON object with a 'target' name "
                                "is expected); rebuild the artifact")
        return cls(path, manifest)

    def listed_files(self) -> dict[str, dict[str, Any]]:
        """``manifest["files"]`` checked: relative paths inside the artifact, each with a
        sha256 and a byte count; ArtifactError naming the manifest otherwise."""
        mf = self.path / MANIFEST_NAME
        files = self.manifest.get("files", {})
        if not isinstance(files, dict):
            raise ArtifactError(f"{mf}: 'files' is not an object; rebuild the artifact")
        for rel, info in files.items():
            parts = Path(rel).parts
            if not rel or Path(rel).is_absolute() or ".." in parts or "\\" in rel:
                raise ArtifactError(f"{mf}: lists the file '{rel}', which is not a path inside the "
                                    "artifact; rebuild the artifact")
            if not isinstance(info, dict) or not _is_sha256(info.get("sha256")) or \
                    not _is_count(info.get("bytes")):
                raise ArtifactError(f"{mf}: the entry of '{rel}' needs a sha256 and a byte count; "
                                    "rebuild the artifact")
        return files

    def verify(self) -> None:
        """Check every listed file's size and sha256; raise ArtifactError (a BuildError)
        naming the first missing or modified one."""
        for rel, info in self.listed_files().items():
            f = self.path / rel
            if not f.is_file():
                raise ArtifactError(f"{f}: missing (the manifest lists it); rebuild the artifact")
            if f.stat().st_size != info["bytes"] or sha256_file(f) != info["sha256"]:
                raise ArtifactError(f"{f}: modified since the build (size or sha256 differs from "
                                    "the manifest); rebuild the artifact")


def _is_sha256(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value)


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _io_specs(artifact: Artifact, key: str) -> list[dict[str, Any]]:
    """``manifest[key]`` (``inputs``/``outputs``) checked: names, shapes of non-negative
    ints, dtype names and quantization parameters a runner can use as they are."""
    mf = artifact.path / MANIFEST_NAME
    specs = artifact.manifest.get(key)
    if not isinstance(specs, list) or not specs:
        raise ArtifactError(f"{mf}: '{key}' must be a non-empty list; rebuild the artifact")
    out = []
    for i, spec in enumerate(specs):
        where = f"{mf}: {key}[{i}]"
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str) or not spec["name"]:
            raise ArtifactError(f"{where} has no name; rebuild the artifact")
        for field_name in ("shape", "source_shape"):
            shape = spec.get(field_name)
            if (field_name == "shape" or shape is not None) and \
                    (not isinstance(shape, list) or not all(_is_count(d) for d in shape)):
                raise ArtifactError(f"{where} ('{spec['name']}'): {field_name} must be a list of "
                                    f"non-negative integers, got {str(shape)[:60]}; rebuild the artifact")
        if not isinstance(spec.get("dtype"), str):
            raise ArtifactError(f"{where} ('{spec['name']}'): dtype must be a name; rebuild the artifact")
        quant = spec.get("quant")
        if quant is not None:
            _check_quant(quant, f"{where} ('{spec['name']}')")
        out.append(spec)
    return out


def _check_quant(quant: Any, where: str) -> None:
    import math

    from edgeq.types import QDType

    ok = isinstance(quant, dict) and isinstance(quant.get("scale"), list) and \
        isinstance(quant.get("zero_point"), list) and len(quant["scale"]) == len(quant["zero_point"]) >= 1
    ok = ok and all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v > 0
                    for v in quant["scale"])
    ok = ok and all(isinstance(v, int) and not isinstance(v, bool) for v in quant["zero_point"])
    ok = ok and (quant.get("axis") is None or (isinstance(quant["axis"], int) and quant["axis"] >= 0))
    ok = ok and quant.get("dtype") in {d.value for d in QDType}
    if not ok:
        raise ArtifactError(f"{where}: quant must hold a dtype, positive finite scales, integer zero "
                            f"points of the same count and an optional axis, got {str(quant)[:80]}; "
                            "rebuild the artifact")


def read_manifest(artifact: Artifact, target: "Target") -> dict[str, Any]:
    """What every artifact's manifest says, checked (the base of
    :meth:`Target.read_artifact`): the manifest is ``target``'s, every listed file is
    present and unmodified (size and sha256), and the inputs/outputs are well formed."""
    mf = artifact.path / MANIFEST_NAME
    if artifact.manifest.get("target") != target.name:
        raise ArtifactError(f"{mf}: a '{artifact.manifest.get('target')}' artifact, not a "
                            f"'{target.name}' one; read it with its own target")
    artifact.verify()
    return {
        "path": str(artifact.path),
        "target": target.name,
        "profile": artifact.manifest.get("profile"),
        "artifact_kind": target.artifact_kind,
        "files": {rel: info["bytes"] for rel, info in sorted(artifact.listed_files().items())},
        "inputs": _io_specs(artifact, "inputs"),
        "outputs": _io_specs(artifact, "outputs"),
        "ops": {},
        "metadata": {},
        "checked": ["manifest", "sha256"],
    }


@dataclass
class BuildOptions:
    """Options every target understands, taken from the target profile
    (:meth:`edgeq.targets.ResolvedTarget.build_options`); ``extra`` holds the profile's
    target-specific options, which the target documents and validates itself."""

    io_dtype: str = "float32"  # float32 | int8 | uint8
    precision: str = "int8"  # int8 | fp32 | fp16
    #: name of the target profile being built (recorded in the manifest)
    profile: str = ""
    #: the chip the profile assumes (e.g. "A17 Pro"), or None for any
    chip: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Target(abc.ABC):
    """A hardware/runtime target. Subclasses set the class attributes."""

    #: unique name, e.g. "tflite"
    name: str = ""
    #: what ``emit`` writes, e.g. ".tflite", ".mlpackage", "qnn-context-binary"
    artifact_kind: str = ""
    #: python packages the target's SDK needs (imported only when used)
    sdk_packages: tuple[str, ...] = ()
    #: default runner name
    default_runner: str = "host"
    #: how many output LSBs the host runner's results may differ from edgeq's integer
    #: simulator; the conformance suite (edgeq.testing.conformance) holds the target to it.
    #: A dict gives it per output storage type ({"int8": 1, "int16": 17}) for targets whose
    #: arithmetic differs by type (e.g. int16 tensors computed in fp16)
    simulator_tolerance_lsb: int | dict[str, int] = 1
    #: conformance cases (edgeq.testing.cases names) on which the target is known to
    #: differ from the simulator by more than its tolerance, each with the measured reason;
    #: the suite expects them to fail (strictly: one that starts passing is reported)
    known_deviations: dict[str, str] = {}

    @property
    @abc.abstractmethod
    def spec(self) -> QuantSpec:
        """The constraints the quantizer must honour for this target."""

    @abc.abstractmethod
    def check(self, graph) -> list[NodePlacement]:
        """Where each node of a quantized graph runs on this target, and why not if not."""

    @abc.abstractmethod
    def emit(self, qmodel, out_dir: Path, options: BuildOptions) -> Artifact:
        """Write the artifact into ``out_dir`` (an empty, temporary directory).

        ``qmodel`` is a QuantizedModel for ``options.precision == "int8"``, else the float
        Model. The caller moves ``out_dir`` into place only if this returns, so a failed
        emit leaves nothing half-written. Raise BuildError/UnsupportedOpError naming the
        node on failure.
        """

    def read_artifact(self, artifact: Artifact) -> dict[str, Any]:
        """Read back an artifact this target emitted, validating before trusting, and
        return a summary: ``path``, ``target``, ``profile``, ``artifact_kind``, ``files``
        (name -> bytes), ``inputs``/``outputs`` (the manifest's name, shape, dtype, quant),
        ``ops`` (op type -> count, read from the model file itself), ``metadata`` (what the
        model file records) and ``checked`` (what was verified, e.g. ``["manifest",
        "sha256", "flatbuffer"]``); a target may add a ``model`` entry with the file's
        own view of its I/O.

        Raises ArtifactError (a BuildError) naming the file for anything missing,
        modified or corrupt, never another exception, and never hands unchecked bytes
        to native code. The base checks the manifest and every file's sha256
        (:func:`read_manifest`); targets extend it by parsing their files. Host runners
        call it before loading an artifact into a runtime.
        """
        return read_manifest(artifact, self)

    def default_quant_spec(self) -> QuantSpec | None:
        """The spec :func:`edgeq.quantize` uses when called without one, or None.

        At most one installed target should offer it; the first in plugin registration
        order wins (:func:`edgeq.targets.default_quant_spec`).
        """
        return None

    def sdk_available(self) -> bool:
        import importlib.util

        return all(importlib.util.find_spec(p.replace("-", "_")) is not None for p in self.sdk_modules())

    def sdk_modules(self) -> tuple[str, ...]:
        return self.sdk_packages


class Runner(abc.ABC):
    """Runs an artifact: on the host, or on a device through a transport.

    The core checks ``targets``: ``run`` and ``profile`` of every subclass are wrapped
    (``__init_subclass__``) so that an artifact of another target is refused with a
    UsageError before the runner sees it, and ``profile``'s ``runs``, ``warmup`` and
    ``feeds`` are checked (:func:`check_profile_arguments`); runners do not re-check.
    """

    name: str = ""
    #: targets this runner can execute
    targets: tuple[str, ...] = ()
    #: whether ``profile`` needs input samples (a device tool may make up random inputs)
    requires_feeds: bool = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for method in ("run", "profile"):
            fn = cls.__dict__.get(method)
            if fn is not None and not getattr(fn, "_edgeq_checks_target", False):
                setattr(cls, method, _checking_target(fn))

    @abc.abstractmethod
    def run(self, artifact: Artifact, feeds: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Run the artifact once on float feeds; return float outputs by name."""

    @abc.abstractmethod
    def profile(self, artifact: Artifact, feeds: Sequence[Mapping[str, np.ndarray]], *,
                runs: int = 50, warmup: int = 5, **options) -> "ProfileReport":
        """Latency over ``runs`` after ``warmup``, and the outputs for ``feeds``."""


RunnerFactory = Callable[..., Runner]


def check_runs(runner: Runner, artifact: Any) -> None:
    """Raise UsageError unless ``runner`` declares the artifact's target in ``targets``."""
    target = getattr(artifact, "target", None)
    if isinstance(artifact, Artifact) and target not in runner.targets:
        runs = ", ".join(runner.targets) or "no"
        raise UsageError(f"{artifact.path}: a '{target}' artifact; the '{runner.name}' runner of "
                         f"this plugin runs {runs} artifacts (pick the runner for '{target}': "
                         "'edgeq targets' lists them)")


def check_profile_arguments(runs: int, warmup: int, feeds: Any, requires_feeds: bool = True) -> None:
    """Raise UsageError for ``runs < 1``, ``warmup < 0`` or, where the runner needs input
    samples, an empty ``feeds``: the arguments every ``Runner.profile`` takes."""
    if runs < 1 or warmup < 0:
        raise UsageError(f"runs must be >= 1 and warmup >= 0 (got runs={runs}, warmup={warmup})")
    if requires_feeds and hasattr(feeds, "__len__") and len(feeds) == 0:
        raise UsageError("profile needs at least one input sample")


def _checking_target(fn: Callable) -> Callable:
    signature = inspect.signature(fn) if fn.__name__ == "profile" else None

    @functools.wraps(fn)
    def wrapper(self, artifact, *args, **kwargs):
        check_runs(self, artifact)
        if signature is not None:
            bound = signature.bind_partial(self, artifact, *args, **kwargs)
            bound.apply_defaults()
            given = bound.arguments
            check_profile_arguments(given.get("runs", 1), given.get("warmup", 0), given.get("feeds", [None]),
                                    self.requires_feeds)
        return fn(self, artifact, *args, **kwargs)

    wrapper._edgeq_checks_target = True  # type: ignore[attr-defined]
    return wrapper


@dataclass
class LatencyStats:
    """Latency summary in milliseconds."""

    runs: int
    p50_ms: float
    p90_ms: float
    mean_ms: float
    min_ms: float
    max_ms: float
    std_ms: float
    load_ms: float | None = None
    samples_ms: list[float] = field(default_factory=list)

    @classmethod
    def from_samples(cls, samples_ms: Sequence[float], load_ms: float | None = None) -> "LatencyStats":
        a = np.asarray(samples_ms, np.float64)
        if a.size == 0:
            raise ValueError("no latency samples")
        return cls(int(a.size), float(np.percentile(a, 50)), float(np.percentile(a, 90)),
                   float(a.mean()), float(a.min()), float(a.max()), float(a.std()), load_ms,
                   [float(x) for x in a])


@dataclass
class ProfileReport:
    """What a runner measured. One format for every runner (see edgeq.profile.report)."""

    target: str
    runner: str
    latency: LatencyStats | None = None
    peak_memory_mb: float | None = None
    accuracy: dict[str, Any] = field(default_factory=dict)
    device: dict[str, Any] = field(default_factory=dict)
    artifact: dict[str, Any] = field(default_factory=dict)
    op_profile: list[dict[str, Any]] = field(default_factory=list)
    outputs: list[dict[str, np.ndarray]] = field(default_factory=list, repr=False)
    extra: dict[str, Any] = field(default_factory=dict)


def unavailable(target: Target) -> TargetUnavailableError:
    return TargetUnavailableError(
        f"target '{target.name}' needs {', '.join(target.sdk_packages)}; install with: "
        f"pip install {' '.join(target.sdk_packages)}")


def edgeq_version() -> str:
    """The installed edgeq's version string, for manifests and reports."""
    import edgeq

    return edgeq.__version__
