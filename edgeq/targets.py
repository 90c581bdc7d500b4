"""Target profiles and the registry of plugin Targets and Runners.

A *target* (``edgeq.contracts.Target``) is what a plugin registers: e.g. ``tflite``. A
*target profile* is a YAML file that names a plugin target and fixes its options, e.g.
``targets/tflite.yaml``::

    name: tflite                 # what users pass to --target
    target: tflite               # the plugin target it uses
    description: Full-integer TFLite for Android/iOS CPUs
    chip: any arm64 CPU          # the hardware the options assume
    runner: host                 # default runner of `edgeq profile`
    options: {io_dtype: float32, precision: int8, threads: 1, int16: true}

``--target NAME`` resolves, in order: a path to a profile YAML (``*.yaml``/``*.yml`` or
containing a path separator), a built-in profile shipped in the wheel as package data
``edgeq._targets``, then a plugin target of that name with default options.

    get_target("tflite") -> ResolvedTarget     (.target, .profile, .spec, .build_options())
    list_targets() -> list[TargetInfo]          (what `edgeq targets` prints)
    get_runner("host", "tflite", threads=4) -> Runner
"""

from __future__ import annotations

import dataclasses
import importlib.resources
import inspect
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from edgeq.errors import EdgeqError, TargetUnavailableError

log = logging.getLogger(__name__)

BUILTIN_PACKAGE = "edgeq._targets"
NAME_PATTERN = r"^[a-z0-9][a-z0-9_.-]*$"


class UnknownTargetError(TargetUnavailableError):
    """A ``--target`` name that is neither a profile nor a plugin target (a usage error)."""

    exit_code = 2


class ProfileOptions(BaseModel):
    """Options of a target profile; an ``edgeq.yaml`` target entry may override each."""

    model_config = ConfigDict(extra="forbid")

    io_dtype: Literal["float32", "int8", "uint8"] = "float32"
    precision: Literal["int8", "fp16", "fp32"] = "int8"
    threads: Annotated[int, Field(ge=1)] = 1
    delegate: str | None = None
    int16: bool = True
    float_fallback: bool = False
    #: where a tensor needs more than 8 bits (the lowering's int16 hints, a transformer's
    #: residual stream, promotions): "int16" (16x8 kernels, integer-only) or "float"
    #: (float kernels between dequantize/quantize; needs ``float_fallback: true``)
    wide: Literal["int16", "float"] = "int16"
    #: keep LSTMs as their unrolled cell ops on a target that would run each as one
    #: operator (TFLite's integer sequence LSTM, Core ML's ``lstm``)
    unroll_lstm: bool = False
    extra: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _wide_float_needs_fallback(self) -> "ProfileOptions":
        if self.wide == "float" and not self.float_fallback:
            raise ValueError("wide: float runs the wide tensors in float, which needs "
                             "float_fallback: true; set it, or use wide: int16")
        return self


class TargetProfile(BaseModel):
    """A target profile file: which plugin target, which options, which chip."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=NAME_PATTERN)
    target: str = Field(pattern=NAME_PATTERN)
    description: str = ""
    chip: str | None = None
    runner: str | None = None
    options: ProfileOptions = Field(default_factory=ProfileOptions)


@dataclass(frozen=True)
class ResolvedTarget:
    """A profile bound to the plugin Target that implements it."""

    profile: TargetProfile
    target: Any  # edgeq.contracts.Target
    plugin: str
    #: "builtin", "plugin" (bare target name) or the profile file's path
    source: str

    @property
    def name(self) -> str:
        return self.profile.name

    @property
    def spec(self):
        """The target's QuantSpec narrowed by the profile (int16, float fallback, wide,
        unroll_lstm)."""
        from edgeq.types import QDType

        spec = self.target.spec
        changes: dict[str, Any] = {}
        if not self.profile.options.int16 and QDType.INT16 in spec.activation_dtypes:
            changes["activation_dtypes"] = tuple(d for d in spec.activation_dtypes
                                                 if d != QDType.INT16)
        if not self.profile.options.float_fallback and spec.float_fallback_ops:
            changes["float_fallback_ops"] = frozenset()
        if self.profile.options.wide == "float":
            changes["wide_in_float"] = True
        if self.profile.options.unroll_lstm and "LSTM" in spec.fused_ops:
            changes["fused_ops"] = spec.fused_ops - {"LSTM"}
        return dataclasses.replace(spec, **changes) if changes else spec

    def build_options(self):
        """BuildOptions for ``Target.emit`` from the profile. The profile's switches are
        also handed to the plugin through ``extra``, where targets read their own options
        (e.g. TFLite's ``float_fallback``)."""
        from edgeq.contracts import BuildOptions

        o = self.profile.options
        extra = {"float_fallback": o.float_fallback, "wide": o.wide, "profile": self.name, **o.extra}
        return BuildOptions(io_dtype=o.io_dtype, precision=o.precision, profile=self.name,
                            chip=self.profile.chip, extra=extra)

    def runner_options(self) -> dict[str, Any]:
        """Options the profile gives a runner (threads, delegate)."""
        o = self.profile.options
        return {k: v for k, v in (("threads", o.threads), ("delegate", o.delegate)) if v is not None}

    def with_options(self, overrides: dict[str, Any], *, source: str = "options") -> "ResolvedTarget":
        """A copy whose profile options are updated by ``overrides`` (validated)."""
        if not overrides:
            return self
        from edgeq.validation import validate

        merged = {**self.profile.options.model_dump(), **overrides}
        options = validate(ProfileOptions, merged, source=f"{source} of target {self.name!r}")
        profile = self.profile.model_copy(update={"options": options})
        return dataclasses.replace(self, profile=profile)

    def require_sdk(self) -> None:
        """Raise TargetUnavailableError naming the packages to install if the SDK is missing."""
        from edgeq.contracts import unavailable

        if not self.target.sdk_available():
            raise unavailable(self.target)


@dataclass(frozen=True)
class TargetInfo:
    """One row of ``edgeq targets``."""

    name: str
    target: str
    plugin: str | None
    artifact_kind: str | None
    runners: tuple[str, ...]
    sdk_installed: bool | None
    sdk_packages: tuple[str, ...]
    description: str
    chip: str | None
    source: str

    @property
    def available(self) -> bool:
        return self.plugin is not None and bool(self.sdk_installed)

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["runners"], data["sdk_packages"] = list(self.runners), list(self.sdk_packages)
        data["available"] = self.available
        return data


# ----------------------------------------------------------------------------- profiles
def load_profile(path: str | Path) -> TargetProfile:
    """Read and validate a target profile YAML; errors name the file, line and field."""
    from edgeq.validation import read_yaml, validate

    path = Path(path)
    data, node = read_yaml(path, "target profile")
    return validate(TargetProfile, data, source=str(path), node=node)


def builtin_profiles() -> dict[str, TargetProfile]:
    """The profiles shipped with edgeq, by name (read from package data every call)."""
    from edgeq.errors import ConfigError

    out: dict[str, TargetProfile] = {}
    root = importlib.resources.files(BUILTIN_PACKAGE)
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yaml"):
            continue
        with importlib.resources.as_file(entry) as path:
            profile = load_profile(path)
        if profile.name != entry.name[: -len(".yaml")]:
            raise ConfigError(f"{entry}: built-in profile name {profile.name!r} must match "
                              f"its file name")
        out[profile.name] = profile
    return out


def is_profile_path(name: str) -> bool:
    return name.endswith((".yaml", ".yml")) or "/" in name or "\\" in name


# ----------------------------------------------------------------------------- registry
def plugin_targets() -> dict[str, tuple[str, Any]]:
    """``{target name: (plugin name, Target)}`` from every plugin's ``register_targets``."""
    from edgeq.plugins import PluginError, call_each, quarantine
    from edgeq.contracts import Target

    out: dict[str, tuple[str, Any]] = {}
    for plugin, targets in call_each("register_targets"):
        if not isinstance(targets, (list, tuple)):
            quarantine(_manager(), plugin, f"plugin {plugin!r}: register_targets() must return a "
                       f"list of Target objects, got {type(targets).__name__}")
            continue
        bad = [t for t in targets if not isinstance(t, Target) or not t.name]
        if bad:
            quarantine(_manager(), plugin, f"plugin {plugin!r}: register_targets() returned "
                       f"{bad[0]!r}, which is not an edgeq.contracts.Target with a name")
            continue
        for t in targets:
            if t.name in out:
                raise PluginError(f"target {t.name!r} is registered by both plugins "
                                  f"{out[t.name][0]!r} and {plugin!r}; uninstall one of them")
            out[t.name] = (plugin, t)
    return out


def plugin_runners() -> list[tuple[str, Any]]:
    """``[(plugin name, runner factory)]`` from every plugin's ``register_runners``."""
    from edgeq.plugins import PluginError, call_each, quarantine

    out: list[tuple[str, Any]] = []
    seen: dict[tuple[str, str], str] = {}
    for plugin, factories in call_each("register_runners"):
        if not isinstance(factories, (list, tuple)):
            quarantine(_manager(), plugin, f"plugin {plugin!r}: register_runners() must return a "
                       f"list, got {type(factories).__name__}")
            continue
        bad = [f for f in factories if not callable(f) or not getattr(f, "name", None)
               or not isinstance(getattr(f, "targets", None), (list, tuple))]
        if bad:
            quarantine(_manager(), plugin, f"plugin {plugin!r}: runner factory {bad[0]!r} needs a "
                       f"'name' and a tuple 'targets' and must be callable")
            continue
        for f in factories:
            name, targets = f.name, f.targets
            for t in targets:
                if (name, t) in seen:
                    raise PluginError(f"runner {name!r} for target {t!r} is registered by both "
                                      f"plugins {seen[(name, t)]!r} and {plugin!r}")
                seen[(name, t)] = plugin
            out.append((plugin, f))
    return out


def _manager():
    from edgeq.plugins import get_plugin_manager

    return get_plugin_manager()


def _broken_hint() -> str:
    """`` Broken plugins (not loaded): 'x': why; ...`` or empty: appended to the errors of
    a target that is not found, since a quarantined plugin may be the one providing it."""
    from edgeq.plugins import broken_plugins

    broken = broken_plugins()
    if not broken:
        return ""
    return " Broken plugins, not loaded: " + "; ".join(broken.values())


def default_quant_spec():
    """The QuantSpec of :func:`edgeq.quantize` without ``spec=``: the first installed
    target's :meth:`~edgeq.contracts.Target.default_quant_spec`, in plugin order.

    Raises TargetUnavailableError when no installed target offers one.
    """
    registered = plugin_targets()
    for _plugin, target in registered.values():
        spec = target.default_quant_spec()
        if spec is not None:
            return spec
    raise TargetUnavailableError(
        "edgeq.quantize() was called without spec= and no installed target plugin offers a "
        f"default one (targets installed: {', '.join(sorted(registered)) or 'none'}); pass "
        "spec=edgeq.targets.get_target(NAME).spec, or install a target plugin such as "
        "edgeq's tflite plugin (pip install 'edgeq[tflite]')")


def _available_names() -> list[str]:
    names = set(builtin_profiles()) | set(plugin_targets())
    return sorted(names)


def _bind(profile: TargetProfile, source: str) -> ResolvedTarget:
    from edgeq.plugins import autoload_disabled, AUTOLOAD_ENV

    registered = plugin_targets()
    if profile.target not in registered:
        hint = (f" ({AUTOLOAD_ENV} is set: register the plugin with "
                "edgeq.plugins.register(module))" if autoload_disabled() else
                " (install the plugin that provides it)")
        raise TargetUnavailableError(
            f"target profile {profile.name!r} ({source}) uses the plugin target "
            f"{profile.target!r}, which no installed plugin provides{hint}; plugin targets "
            f"available: {', '.join(sorted(registered)) or 'none'}.{_broken_hint()}")
    plugin, target = registered[profile.target]
    return ResolvedTarget(profile=profile, target=target, plugin=plugin, source=source)


def get_target(name_or_path: str | Path, options: dict[str, Any] | None = None) -> ResolvedTarget:
    """Resolve ``--target`` (a built-in profile name, a profile YAML path or a plugin
    target name) to a :class:`ResolvedTarget`, applying option ``overrides`` if given.

    Raises TargetUnavailableError for an unknown name (listing the available ones) or a
    profile whose plugin is not installed; ConfigError for an invalid profile file.
    """
    text = str(name_or_path)
    if isinstance(name_or_path, Path) or is_profile_path(text):
        path = Path(text).expanduser()
        if not path.is_file():
            raise UnknownTargetError(f"{path}: target profile file not found")
        resolved = _bind(load_profile(path), str(path))
    else:
        builtin = builtin_profiles()
        if text in builtin:
            resolved = _bind(builtin[text], "builtin")
        else:
            registered = plugin_targets()
            if text not in registered:
                raise UnknownTargetError(
                    f"unknown target {text!r}; available: "
                    f"{', '.join(_available_names()) or 'none'} (or pass a profile YAML path; "
                    f"'edgeq targets' lists them).{_broken_hint()}")
            plugin, target = registered[text]
            resolved = ResolvedTarget(profile=TargetProfile(name=text, target=text),
                                      target=target, plugin=plugin, source="plugin")
    return resolved.with_options(options or {})


def list_targets() -> list[TargetInfo]:
    """Every resolvable target name: built-in profiles, then plugin targets without one."""
    registered = plugin_targets()
    runners = plugin_runners()

    def info(profile: TargetProfile, source: str) -> TargetInfo:
        plugin, target = registered.get(profile.target, (None, None))
        return TargetInfo(
            name=profile.name, target=profile.target, plugin=plugin,
            artifact_kind=getattr(target, "artifact_kind", None) or None,
            runners=tuple(sorted({f.name for _, f in runners if profile.target in f.targets})),
            sdk_installed=target.sdk_available() if target is not None else None,
            sdk_packages=tuple(getattr(target, "sdk_packages", ())),
            description=profile.description or (target.__doc__ or "").strip().split("\n")[0]
            if target is not None else profile.description,
            chip=profile.chip, source=source)

    profiles = builtin_profiles()
    rows = [info(p, "builtin") for p in profiles.values()]
    rows += [info(TargetProfile(name=n, target=n), "plugin")
             for n in sorted(registered) if n not in profiles]
    return rows


def get_runner(name: str, target: str | ResolvedTarget, **options: Any):
    """Instantiate the runner ``name`` for ``target``.

    ``options`` (threads, device, delegate, …) override the profile's runner options;
    only those the factory's signature accepts are passed (unless it takes ``**kwargs``).
    """
    resolved = target if isinstance(target, ResolvedTarget) else get_target(target)
    tname = resolved.target.name
    candidates = [(p, f) for p, f in plugin_runners() if tname in f.targets]
    match = [(p, f) for p, f in candidates if f.name == name]
    if not match:
        have = ", ".join(sorted({f.name for _, f in candidates})) or "none"
        raise TargetUnavailableError(f"no runner {name!r} for target {resolved.name!r}; "
                                     f"runners available for it: {have}.{_broken_hint()}")
    plugin, factory = match[0]
    merged = {**resolved.runner_options(), **{k: v for k, v in options.items() if v is not None}}
    kwargs = _accepted(factory, merged)
    try:
        return factory(**kwargs)
    except EdgeqError:
        raise
    except TypeError as exc:
        raise TargetUnavailableError(f"runner {name!r} of plugin {plugin!r} rejected the "
                                     f"options {sorted(kwargs)}: {exc}") from exc


def _accepted(factory: Any, options: dict[str, Any]) -> dict[str, Any]:
    try:
        params = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return options
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return options
    names = {p.name for p in params}
    dropped = sorted(set(options) - names)
    if dropped:
        log.debug("runner %r ignores options %s", getattr(factory, "name", factory), dropped)
    return {k: v for k, v in options.items() if k in names}
