"""The training pipeline: presets, ``--set`` overrides, the resolved configuration, and the stages in order.

A preset is a TOML file with one table per stage (``[sl]`` ...) whose keys are fields of that stage's config
dataclass; the package ships ``quick`` and ``9x9`` (``selfplay/presets``), and any ``FILE.toml`` works too.
``--set stage.field=value`` overrides one field (the value is parsed as TOML, so ``0.01``, ``true`` and
``"text"`` work; a bare word is a string). The resolved configuration is written to ``RUN/config.toml`` before
anything runs; a run folder made from another preset or board size is refused unless ``force``.
"""

from __future__ import annotations

import dataclasses
import logging
import tomllib
import types
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from minigo.atomic import write_atomic
from models.run_layout import RunLayout
from selfplay import mcts_stage, rl, sl
from selfplay import value as value_stage
from selfplay.farm import FarmConfig, FarmUnavailable
from selfplay.report import write_report

log = logging.getLogger(__name__)

PRESETS_DIR = Path(__file__).parent / "presets"
STAGES: dict[str, type] = {"sl": sl.SLConfig, "rl": rl.RLConfig, "value": value_stage.ValueConfig,
                           "mcts": mcts_stage.MCTSStageConfig}
"""Stage name -> its config dataclass, in the order the stages run."""
TABLES: dict[str, type] = {**STAGES, "farm": FarmConfig}
"""Every table of a configuration: the stages', and ``[farm]`` (where the stages' workers run)."""


class ConfigError(ValueError):
    """A preset, override or run folder that cannot be used; the message says which and why."""


@dataclasses.dataclass(frozen=True)
class PipelineConfig:
    """Everything a run needs: the preset it came from and each stage's config."""

    preset: str
    stages: dict[str, Any]
    """Table name (``TABLES``) -> its config: each stage's, and ``farm``."""

    @property
    def board_size(self) -> int:
        return self.stages["sl"].board_size

    @property
    def farm(self) -> FarmConfig:
        return self.stages["farm"]


def preset_names() -> list[str]:
    return sorted(p.stem for p in PRESETS_DIR.glob("*.toml"))


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"preset file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read preset file {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"preset file {path} is not valid TOML: {exc}") from None


def _parse_value(text: str) -> Any:
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text  # a bare word such as cpu or a path


_UNSET_WORDS = ("none", "auto")
"""What ``--set stage.field=none`` (or ``auto``) means for a field that may be unset: its automatic value."""


def _check_type(stage: str, field: dataclasses.Field, hint: Any, value: Any) -> Any:
    """``value`` (from TOML or ``--set``) as the field's type ``hint``: ``int``, ``float``, ``str``, ``bool``, a union
    of them with ``None`` (unset: absent, or the word ``none`` / ``auto``), or ``tuple[str, ...]`` (a TOML array
    or a comma-separated string); a ConfigError names the setting and what it expected otherwise."""
    arms = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    if type(None) in arms and isinstance(value, str) and value.strip().lower() in _UNSET_WORDS:
        return None
    for arm in arms:
        if arm is type(None):
            continue
        if typing.get_origin(arm) is tuple:
            if isinstance(value, str):
                value = [item for item in value.split(",")]
            if isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value):
                items = tuple(item.strip() for item in value if item.strip())
                return items
            continue
        if arm is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, arm) and not (arm is int and isinstance(value, bool)):
            return value
    names = " or ".join("none" if arm is type(None) else "a list of strings" if typing.get_origin(arm) is tuple
                        else arm.__name__ for arm in arms)
    raise ConfigError(f"{stage}.{field.name} = {value!r} is a {type(value).__name__}, expected {names}")


def resolve(preset: str, overrides: Sequence[str] = ()) -> PipelineConfig:
    """The configuration of ``preset`` (a name or a .toml path) with ``stage.field=value`` overrides applied."""
    path = Path(preset)
    if path.suffix == ".toml":
        name, table = str(path), _read_toml(path)
    elif preset in preset_names():
        name, table = preset, _read_toml(PRESETS_DIR / f"{preset}.toml")
    else:
        raise ConfigError(f"preset {preset!r} does not exist: expected one of {', '.join(preset_names())} or a "
                          f"FILE.toml")
    values: dict[str, dict[str, Any]] = {stage: {} for stage in TABLES}
    for stage, fields in table.items():
        if stage == "preset" and isinstance(fields, str):
            continue  # a resolved config.toml names the preset it came from: it reruns as a preset itself
        if stage not in TABLES or not isinstance(fields, dict):
            raise ConfigError(f"{name}: [{stage}] is not a stage: expected tables {', '.join(TABLES)}")
        values[stage].update(fields)
    for item in overrides:
        key, eq, text = item.partition("=")
        stage, dot, field_name = key.strip().partition(".")
        if not eq or not dot:
            raise ConfigError(f"--set {item!r} is not stage.field=value")
        if stage not in TABLES:
            raise ConfigError(f"--set {item!r}: no stage {stage!r}: expected one of {', '.join(TABLES)}")
        values[stage][field_name] = _parse_value(text.strip())
    stages = {}
    for stage, cls in TABLES.items():
        fields = {f.name: f for f in dataclasses.fields(cls)}
        hints = typing.get_type_hints(cls)
        for key, value in values[stage].items():
            if key not in fields:
                raise ConfigError(f"unknown setting {stage}.{key}: expected one of "
                                  f"{', '.join(f'{stage}.{f}' for f in fields)}")
            values[stage][key] = _check_type(stage, fields[key], hints[key], value)
        try:
            stages[stage] = cls(**values[stage])
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    return PipelineConfig(name, stages)


def to_toml(config: PipelineConfig) -> str:
    """The resolved configuration as TOML (every field, defaults included)."""
    lines = [f"# minigo run configuration, resolved from preset {config.preset!r}", f"preset = {_toml(config.preset)}"]
    for stage, values in config.stages.items():
        lines.append(f"\n[{stage}]")
        for field in dataclasses.fields(values):
            value = getattr(values, field.name)
            # TOML has no null: an unset field is left out, and reads back unset
            lines.append(f"# {field.name}: unset (automatic)" if value is None else f"{field.name} = {_toml(value)}")
    return "\n".join(lines) + "\n"


def _toml(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def prepare_run(config: PipelineConfig, run_dir: Path, force: bool = False) -> None:
    """Create ``run_dir`` and write ``config.toml``; refuse a folder from another preset or board size."""
    if run_dir.exists() and not run_dir.is_dir():
        raise ConfigError(f"--run {run_dir} is a file, expected a folder")
    existing = RunLayout(run_dir).config
    if existing.exists() and not force:
        old = _read_toml(existing)
        old_size = old.get("sl", {}).get("board_size")
        if old.get("preset") != config.preset or old_size != config.board_size:
            raise ConfigError(f"{run_dir} holds a run of preset {old.get('preset')!r} on {old_size}x{old_size}; "
                              f"this is {config.preset!r} on {config.board_size}x{config.board_size} "
                              f"(use another --run, or --force)")
    run_dir.mkdir(parents=True, exist_ok=True)
    # A process killed while writing leaves its hidden temporary file (never the file itself): sweep them.
    for stale in run_dir.rglob(".*.tmp"):
        stale.unlink(missing_ok=True)
        log.info("removed %s, left by a process that was stopped while writing", stale)
    write_atomic(existing, to_toml(config).encode())


def train(config: PipelineConfig, run_dir: Path, stages: Sequence[str], force: bool = False,
          progress: bool = True) -> dict[str, Any]:
    """Run ``stages`` (in pipeline order) into ``run_dir``; each resumes where a stopped run left off."""
    unknown = [s for s in stages if s not in STAGES]
    if unknown:
        raise ConfigError(f"unknown stage {unknown[0]!r}: expected one of {', '.join(STAGES)}")
    order = list(STAGES)
    if list(stages) != sorted(stages, key=order.index):
        raise ConfigError(f"--stages {','.join(stages)} is out of order: expected the order {','.join(order)}")
    try:
        config.farm.check()
    except FarmUnavailable as exc:
        raise ConfigError(str(exc)) from None
    prepare_run(config, run_dir, force)
    # Every process's records reach the root logger (workers through a queue), so one file holds the run's log.
    handler = logging.FileHandler(RunLayout(run_dir).log, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(processName)s %(name)s %(levelname)s %(message)s"))
    handler.setLevel(logging.INFO)
    root = logging.getLogger()
    root.addHandler(handler)
    if root.getEffectiveLevel() > logging.INFO:
        root.setLevel(logging.INFO)
    results: dict[str, Any] = {}
    try:
        for stage in stages:
            log.info("stage %s: starting in %s", stage, run_dir)
            if stage == "sl":
                results[stage] = sl.run(config.stages[stage], run_dir, progress=progress)
            else:  # the stages that play games on workers
                module = {"rl": rl, "value": value_stage, "mcts": mcts_stage}[stage]
                results[stage] = module.run(config.stages[stage], run_dir, progress=progress, farm=config.farm)
        results["report"] = write_report(run_dir)
        log.info("report written to %s", results["report"])
    except BaseException as exc:
        # Into the run's log only: the command line reports the stop itself, in one line.
        handler.handle(log.makeRecord(log.name, logging.ERROR, __file__, 0, "stopped: %s: %s",
                                      (type(exc).__name__, exc), None))
        raise
    finally:
        root.removeHandler(handler)
        handler.close()
    return results
