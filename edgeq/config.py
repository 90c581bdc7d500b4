"""The ``edgeq.yaml`` schema and its loader.

One file drives a whole build: which model, which calibration data, how to quantize,
for which targets, and how to profile and gate the result. Every section is a pydantic
model with ``extra="forbid"``, so a misspelled field is an error naming its path, and
docs/config.md documents every field (a test keeps the two in step).

Relative paths are resolved against the directory of the config file, so a project's
``edgeq.yaml`` works from any working directory. Fields left unset (``None``) mean
"the library default" so the defaults live in one place: the API.

    cfg = load_config("edgeq.yaml")
    cfg.model.path, cfg.model.inputs, cfg.calibration.dataset.kind, cfg.targets[0].name
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, Union

from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Discriminator, Field,
                      PrivateAttr, Tag, ValidationInfo, field_validator,
                      model_validator)

from edgeq.targets import ProfileOptions
from edgeq.validation import read_yaml, validate

CONFIG_VERSION = 1


def parse_shape(text: Any) -> tuple[int, ...]:
    """``"1x3x224x224"`` or ``[1, 3, 224, 224]`` -> ``(1, 3, 224, 224)``; every dim >= 1.

    Raises ValueError with a message fit for a user (the callers add the field or flag).
    """
    if isinstance(text, str):
        parts = text.strip().lower().split("x")
        try:
            dims = [int(p) for p in parts]
        except ValueError:
            raise ValueError(f"expected a shape like 1x3x224x224 (positive integers joined by "
                             f"'x'), got {text!r}") from None
    elif isinstance(text, (list, tuple)) and all(isinstance(d, int) and not isinstance(d, bool)
                                                 for d in text):
        dims = list(text)
    else:
        raise ValueError(f"expected a shape like [1, 3, 224, 224] or '1x3x224x224', got {text!r}")
    if not dims or any(d < 1 for d in dims):
        raise ValueError(f"expected a shape of positive dimensions, got {text!r}")
    return tuple(dims)


def _resolve_path(value: Path, info: ValidationInfo) -> Path:
    base = (info.context or {}).get("base_dir")
    value = value.expanduser()
    return value if value.is_absolute() or base is None else Path(base) / value


def _check_regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"invalid regular expression {value!r}: {exc}") from None
    return value


def _check_gate(value: str) -> str:
    from edgeq.errors import UsageError
    from edgeq.profile.gates import Gate

    try:
        Gate.parse(value)
    except UsageError as exc:
        raise ValueError(str(exc)) from None
    return value


#: a path, resolved against the config file's directory
ConfigPath = Annotated[Path, AfterValidator(_resolve_path)]
Shape = Annotated[tuple[int, ...], BeforeValidator(parse_shape)]
Regex = Annotated[str, AfterValidator(_check_regex)]
Gate = Annotated[str, AfterValidator(_check_gate)]
PositiveInt = Annotated[int, Field(ge=1)]


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


# ----------------------------------------------------------------------------- model
class ModelConfig(Section):
    #: the FP32 ONNX file; or ``zoo``: a model of edgeq's zoo by name (fetched from the
    #: package registry and cached), so a project needs no model file of its own
    path: ConfigPath | None = None
    zoo: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    inputs: dict[str, Shape] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_source(self) -> "ModelConfig":
        if (self.path is None) == (self.zoo is None):
            raise ValueError("give exactly one of path or zoo")
        return self

    def ref(self) -> str:
        """What edgeq.build takes: the file's path, or ``zoo:NAME``."""
        return str(self.path) if self.path is not None else f"zoo:{self.zoo}"


# ----------------------------------------------------------------------------- data
#: dataset kinds edgeq.yaml knows without plugins
DATASET_KINDS = ("images", "audio", "npy", "text", "zoo")


class DatasetSection(Section):
    """A dataset mapping; its fields are the keyword arguments of ``edgeq.data.<kind>``.

    Fields left out take the data API's defaults (only the fields written in the file
    are passed on), so the two cannot drift apart.
    """

    def options(self) -> dict[str, Any]:
        """Keyword arguments for ``edgeq.data.create(kind, ...)``: the fields set in the file."""
        opts = self.model_dump(exclude_unset=True, exclude={"kind"})
        opts.update(self.model_extra or {})
        return opts

    def to_dataset(self, num_samples: int | None = None, seed: int = 0):
        """The ``edgeq.data`` dataset this section describes."""
        import edgeq.data

        return edgeq.data.create(self.kind, **self.options(), num_samples=num_samples, seed=seed)


class ImagesDataset(DatasetSection):
    kind: Literal["images"]
    path: ConfigPath
    size: Annotated[int, Field(ge=1)] | Shape | None = None
    resize: Literal["crop", "stretch", "pad", "none"] | None = None
    resize_shorter: PositiveInt | None = None
    scale: Annotated[float, Field(gt=0)] | None = None
    mean: list[float] | None = None
    std: list[Annotated[float, Field(gt=0)]] | None = None
    layout: Literal["NCHW", "NHWC"] | None = None
    color: Literal["RGB", "BGR", "L"] | None = None
    input_name: str | None = None
    dtype: str | None = None
    batch: bool | None = None

    def options(self) -> dict[str, Any]:
        opts = super().options()
        if opts.get("resize") == "none":
            opts["resize"] = None  # the file already has the model's size
        return opts


class AudioDataset(DatasetSection):
    kind: Literal["audio"]
    path: ConfigPath
    sample_rate: PositiveInt | None = None
    window: PositiveInt | None = None
    frames: PositiveInt | None = None
    frame_length: PositiveInt | None = None
    frame_hop: PositiveInt | None = None
    hop: PositiveInt | None = None
    shape: Shape | None = None
    input_name: str | None = None
    zero_inputs: dict[str, Shape] | None = None
    dtype: str | None = None


class NpyDataset(DatasetSection):
    kind: Literal["npy"]
    path: ConfigPath
    input_name: str | None = None
    stacked: bool | None = None


class TextDataset(DatasetSection):
    kind: Literal["text"]
    path: ConfigPath
    tokenizer_json: ConfigPath
    max_len: Annotated[int, Field(ge=2)] | None = None
    input_ids: str | None = None
    attention_mask: str | None = None
    token_type_ids: str | None = None
    dtype: str | None = None


class ZooDataset(DatasetSection):
    kind: Literal["zoo"]
    model: str
    split: Literal["calib", "eval"] | None = None
    cache_dir: ConfigPath | None = None


def _plugin_kind(kind: str) -> str:
    from edgeq.plugins import collect_mapping

    plugin_kinds = collect_mapping("register_datasets", builtin=DATASET_KINDS)
    if kind not in plugin_kinds:
        extra = f"; kinds added by plugins: {', '.join(sorted(plugin_kinds))}" if plugin_kinds else ""
        raise ValueError(f"unknown kind {kind!r}; expected one of {', '.join(DATASET_KINDS)}{extra}")
    return kind


class PluginDataset(DatasetSection):
    """A dataset kind registered by a plugin (``register_datasets``); options pass through."""

    model_config = ConfigDict(extra="allow")
    kind: Annotated[str, AfterValidator(_plugin_kind)]


def _dataset_tag(value: Any) -> str | None:
    kind = value.get("kind") if isinstance(value, dict) else getattr(value, "kind", None)
    if kind is None:
        return None
    return kind if kind in DATASET_KINDS else "plugin"


Dataset = Annotated[Union[Annotated[ImagesDataset, Tag("images")], Annotated[AudioDataset, Tag("audio")],
                          Annotated[NpyDataset, Tag("npy")], Annotated[TextDataset, Tag("text")],
                          Annotated[ZooDataset, Tag("zoo")], Annotated[PluginDataset, Tag("plugin")]],
                    Discriminator(_dataset_tag)]


class CalibrationConfig(Section):
    dataset: Dataset
    num_samples: PositiveInt = 128
    seed: int = 0
    method: Literal["minmax", "percentile", "mse", "entropy"] | None = None
    percentile: Annotated[float, Field(gt=0, le=100)] | None = None
    method16: Literal["minmax", "percentile", "mse", "entropy"] | None = None
    cache_dir: ConfigPath | None = None

    def to_dataset(self):
        """The calibration dataset (``num_samples`` and ``seed`` applied)."""
        return self.dataset.to_dataset(self.num_samples, self.seed)


# ----------------------------------------------------------------------------- quantization
class NodeSelection(Section):
    nodes: list[Regex] = Field(default_factory=list)
    op_types: list[str] = Field(default_factory=list)

    def empty(self) -> bool:
        return not self.nodes and not self.op_types


class FloatFallback(Section):
    nodes: list[Regex] = Field(default_factory=list)

    def empty(self) -> bool:
        return not self.nodes


class AutoMixed(Section):
    """The budget is one of ``sqnr_db``, ``cosine`` or ``budget`` (the API's string form)."""

    sqnr_db: Annotated[float, Field(gt=0, lt=200)] | None = None
    cosine: Annotated[float, Field(gt=0, le=1)] | None = None
    budget: str | None = None
    max_int16_fraction: Annotated[float, Field(gt=0, le=1)] | None = None
    eval_samples: PositiveInt | None = None

    @field_validator("budget")
    @classmethod
    def _parsable(cls, value: str | None) -> str | None:
        if value is not None:
            from edgeq.errors import UsageError
            from edgeq.quantize.algorithms.mixed import Budget

            try:
                Budget.parse(value)
            except UsageError as exc:
                raise ValueError(str(exc)) from None
        return value

    @model_validator(mode="after")
    def _one_budget(self) -> "AutoMixed":
        given = [k for k in ("sqnr_db", "cosine", "budget") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of sqnr_db, cosine or budget"
                             + (f" (got {', '.join(given)})" if given else ""))
        return self

    def to_budget(self) -> Any:
        """The ``auto_mixed`` option of ``edgeq.quantize``."""
        if self.sqnr_db is not None:
            return self.sqnr_db
        if self.cosine is not None:
            return f"cosine:{self.cosine}"
        return self.budget


class WeightsConfig(Section):
    clip: Literal["mse", "max"] | None = None
    rounding: Literal["gptq", "adaround", "nearest"] | None = None
    equalize: bool | None = None
    bias_correction: bool | None = None


class QuantOverrides(Section):
    """The part of ``quantization`` that ``per_target`` may override."""

    int16: NodeSelection = Field(default_factory=NodeSelection)
    int16_hints: bool | None = None
    int16_residual: bool | None = None
    residual_scaling: Literal["auto"] | bool | None = None
    auto_mixed: AutoMixed | None = None
    float_fallback: FloatFallback = Field(default_factory=FloatFallback)
    weights: WeightsConfig = Field(default_factory=WeightsConfig)

    def to_options(self) -> dict[str, Any]:
        """Keyword options of ``edgeq.quantize`` (QuantizeOptions names) for what is set."""
        opts: dict[str, Any] = {}
        if self.int16.nodes:
            opts["int16"] = list(self.int16.nodes)
        if self.int16.op_types:
            opts["int16_ops"] = list(self.int16.op_types)
        if self.float_fallback.nodes:
            opts["float_nodes"] = list(self.float_fallback.nodes)
        if self.int16_hints is not None:
            opts["int16_hints"] = self.int16_hints
        if self.auto_mixed is not None:
            opts["auto_mixed"] = self.auto_mixed.to_budget()
            for name in ("max_int16_fraction", "eval_samples"):
                if getattr(self.auto_mixed, name) is not None:
                    opts[name] = getattr(self.auto_mixed, name)
        w = self.weights
        for key, value in (("weight_clip", w.clip), ("weight_rounding", w.rounding),
                           ("equalize", w.equalize), ("bias_correction", w.bias_correction),
                           ("int16_residual", self.int16_residual),
                           ("residual_scaling", self.residual_scaling)):
            if value is not None:
                opts[key] = value
        return opts


class QuantizationConfig(QuantOverrides):
    per_target: dict[str, QuantOverrides] = Field(default_factory=dict)

    def for_target(self, name: str) -> QuantOverrides:
        """The settings for one target: ``per_target[name]``'s fields set there win."""
        base = QuantOverrides.model_validate(self.model_dump(exclude={"per_target"}))
        over = self.per_target.get(name)
        if over is None:
            return base
        merged = base.model_dump()
        for key in over.model_fields_set:
            value = getattr(over, key)
            # selections and weights merge field by field; a budget (auto_mixed) is replaced
            if key != "auto_mixed" and isinstance(value, BaseModel) and isinstance(getattr(base, key), BaseModel):
                merged[key] = {**merged[key], **value.model_dump(exclude_unset=True)}
            else:
                merged[key] = value.model_dump() if isinstance(value, BaseModel) else value
        return QuantOverrides.model_validate(merged)


# ----------------------------------------------------------------------------- targets
def _target_entry(value: Any) -> Any:
    return {"name": value} if isinstance(value, str) else value


class TargetEntry(Section):
    """A built-in profile name (``tflite``) or a profile YAML path, plus option overrides
    and, for profiling, this target's own evaluation settings and gates.

    ``gates`` *replaces* ``profile.gates`` for this target (it does not add to it): a
    target measured worse than the others on one metric can then be held to its own,
    lower threshold without lowering the others', and each target's list reads whole in
    one place. ``num_samples``, ``runs`` and ``warmup`` replace the ``profile`` fields of
    the same names (a slow runner, such as an emulator, can evaluate fewer samples).
    """

    name: str = Field(min_length=1)
    options: ProfileOptions = Field(default_factory=ProfileOptions)
    gates: list[Gate] | None = None
    num_samples: PositiveInt | None = None
    runs: PositiveInt | None = None
    warmup: Annotated[int, Field(ge=0)] | None = None

    #: the fields of this entry that override the ``profile`` section's
    PROFILE_FIELDS: ClassVar[tuple[str, ...]] = ("gates", "num_samples", "runs", "warmup")

    def is_path(self) -> bool:
        return self.name.endswith((".yaml", ".yml")) or "/" in self.name or "\\" in self.name

    def option_overrides(self) -> dict[str, Any]:
        """Only the options this entry sets (they override the profile's)."""
        return self.options.model_dump(exclude_unset=True)


def _resolve_target(entry: TargetEntry, info: ValidationInfo) -> TargetEntry:
    base = (info.context or {}).get("base_dir")
    if entry.is_path() and base is not None:
        path = Path(entry.name).expanduser()
        if not path.is_absolute():
            entry.name = str(Path(base) / path)
    return entry


def _profile_name(path: str) -> str | None:
    """The ``name`` a target profile YAML declares (what ``edgeq build`` names its output
    directory), or None when the file cannot be read as one."""
    from edgeq.errors import EdgeqError

    try:
        data = read_yaml(Path(path), "target profile")[0]
    except EdgeqError:  # an unreadable profile is reported by the build, not here
        return None
    return data.get("name") if isinstance(data, dict) else None


TargetRef = Annotated[TargetEntry, BeforeValidator(_target_entry), AfterValidator(_resolve_target)]


# ----------------------------------------------------------------------------- profile
class ProfileConfig(Section):
    runner: str = Field(default="host", pattern=r"^[A-Za-z0-9_.-]+$")
    device: str | None = None
    runner_bin: ConfigPath | None = None
    runs: PositiveInt = 50
    warmup: Annotated[int, Field(ge=0)] = 5
    threads: PositiveInt | None = None
    delegate: str | None = None
    op_profiling: bool = False
    timeout_s: Annotated[float, Field(gt=0)] = 600.0
    data: Dataset | None = None
    num_samples: PositiveInt | None = None
    gates: list[Gate] = Field(default_factory=list)
    junit: ConfigPath | None = None
    report_formats: list[Literal["json", "md", "html"]] = Field(
        default_factory=lambda: ["json", "md", "html"])


# ----------------------------------------------------------------------------- root
class EdgeqConfig(Section):
    version: Literal[1] = CONFIG_VERSION
    model: ModelConfig
    calibration: CalibrationConfig | None = None
    quantization: QuantizationConfig = Field(default_factory=QuantizationConfig)
    targets: list[TargetRef] = Field(default_factory=list)
    output: ConfigPath = Path("build")
    profile: ProfileConfig = Field(default_factory=ProfileConfig)

    _source: Path | None = PrivateAttr(default=None)

    @field_validator("targets")
    @classmethod
    def _unique_targets(cls, targets: list[TargetEntry]) -> list[TargetEntry]:
        names = [t.name for t in targets]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"{', '.join(dup)} listed more than once")
        return targets

    def target_entry(self, target: str) -> TargetEntry | None:
        """The ``targets`` entry of ``target``: a built target's name (``OUT/<name>``, the
        profile's name) or the entry's own ``name``; None when the config does not list it."""
        for entry in self.targets:
            if entry.name == target:
                return entry
        for entry in self.targets:
            if entry.is_path() and _profile_name(entry.name) == target:
                return entry
        return None

    def profile_for(self, target: str | None) -> ProfileConfig:
        """The ``profile`` section as it applies to ``target``: the fields its ``targets``
        entry sets (``gates``, ``num_samples``, ``runs``, ``warmup``) replace the section's."""
        entry = self.target_entry(target) if target else None
        if entry is None:
            return self.profile
        update = {k: getattr(entry, k) for k in TargetEntry.PROFILE_FIELDS if getattr(entry, k) is not None}
        return self.profile.model_copy(update=update)

    def quantize_options(self, target: str | None = None) -> dict[str, Any]:
        """Keyword options for ``edgeq.quantize(model, calibration, **options)``: the
        calibration settings plus ``quantization`` (with ``per_target[target]`` applied)."""
        opts: dict[str, Any] = {}
        cal = self.calibration
        if cal is not None:
            opts.update(num_samples=cal.num_samples, seed=cal.seed)
            if cal.method is not None:
                opts["method"] = cal.method
            if cal.percentile is not None:
                opts["percentile"] = cal.percentile
            if cal.method16 is not None:
                opts["method16"] = cal.method16
            if cal.cache_dir is not None:
                opts["cache_dir"] = str(cal.cache_dir)
        quant = self.quantization.for_target(target) if target else self.quantization
        opts.update(quant.to_options())
        return opts

    @property
    def source(self) -> Path | None:
        """The file this config was read from (None when built from a mapping)."""
        return self._source


def parse_config(data: Any, *, source: str = "<config>", base_dir: str | Path | None = None,
                 node=None) -> EdgeqConfig:
    """Validate an already-parsed mapping. Relative paths resolve against ``base_dir``
    (default: the current directory). Raises ConfigError naming ``source`` and fields."""
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    return validate(EdgeqConfig, data, source=source, node=node, context={"base_dir": base})


def load_config(path: str | Path) -> EdgeqConfig:
    """Read and validate an ``edgeq.yaml``; paths in it resolve against its directory."""
    path = Path(path)
    data, node = read_yaml(path, "edgeq configuration")
    cfg = parse_config(data, source=str(path), base_dir=path.resolve().parent, node=node)
    cfg._source = path
    return cfg
