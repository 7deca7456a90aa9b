"""Presets, --set overrides, the resolved config.toml, run-folder checks, and the train command's errors."""

from __future__ import annotations

import subprocess
import sys

import pytest

from selfplay import pipeline
from selfplay.pipeline import ConfigError


def test_shipped_presets_resolve():
    assert {"quick", "9x9"} <= set(pipeline.preset_names())
    quick = pipeline.resolve("quick")
    full = pipeline.resolve("9x9")
    assert quick.stages["sl"].filters < full.stages["sl"].filters
    assert full.board_size == 9


def test_set_overrides_one_field_with_toml_values():
    config = pipeline.resolve("quick", ["sl.epochs=7", "sl.lr=0.01", "sl.device=cpu", "sl.symmetries=false"])
    sl = config.stages["sl"]
    assert (sl.epochs, sl.lr, sl.device, sl.symmetries) == (7, 0.01, "cpu", False)


def test_integer_is_accepted_for_a_float_field():
    assert pipeline.resolve("quick", ["sl.lr=1"]).stages["sl"].lr == 1.0


@pytest.mark.parametrize("override,message", [
    ("sl.nope=1", "unknown setting sl.nope"),
    ("sl.epochs=abc", "sl.epochs = 'abc' is a str, expected int"),
    ("sl.epochs=true", "expected int"),
    ("play.epochs=3", "no stage 'play'"),
    ("rl.epochs=3", "unknown setting rl.epochs"),
    ("rl.baseline=critic", "rl.baseline = 'critic'"),
    ("epochs=3", "not stage.field=value"),
    ("sl.epochs=0", "sl.epochs = 0 must be at least 1"),
])
def test_bad_overrides_are_one_clear_error(override, message):
    with pytest.raises(ConfigError, match=message):
        pipeline.resolve("quick", [override])


def test_unknown_preset_and_bad_preset_files(tmp_path):
    with pytest.raises(ConfigError, match="preset 'huge' does not exist"):
        pipeline.resolve("huge")
    bad = tmp_path / "bad.toml"
    bad.write_text("[sl\nepochs = 1")
    with pytest.raises(ConfigError, match="not valid TOML"):
        pipeline.resolve(str(bad))
    unknown = tmp_path / "unknown.toml"
    unknown.write_text("[sl]\nwidth = 3\n")
    with pytest.raises(ConfigError, match="unknown setting sl.width"):
        pipeline.resolve(str(unknown))
    with pytest.raises(ConfigError, match="does not exist"):
        pipeline.resolve(str(tmp_path / "missing.toml"))


def test_resolved_config_is_written_and_reads_back(tmp_path):
    config = pipeline.resolve("quick", ["sl.epochs=2"])
    pipeline.prepare_run(config, tmp_path / "run")
    text = (tmp_path / "run" / "config.toml").read_text()
    assert "epochs = 2" in text and 'preset = "quick"' in text
    again = pipeline.resolve(str(tmp_path / "run" / "config.toml"))
    assert again.stages["sl"] == config.stages["sl"]


def test_run_folder_of_another_preset_is_refused_unless_forced(tmp_path):
    pipeline.prepare_run(pipeline.resolve("quick"), tmp_path)
    with pytest.raises(ConfigError, match="holds a run of preset 'quick'"):
        pipeline.prepare_run(pipeline.resolve("9x9"), tmp_path)
    pipeline.prepare_run(pipeline.resolve("9x9"), tmp_path, force=True)


def test_stages_unknown_or_out_of_order_are_refused(tmp_path):
    config = pipeline.resolve("quick")
    with pytest.raises(ConfigError, match="unknown stage 'search'"):
        pipeline.train(config, tmp_path, ["search"])
    with pytest.raises(ConfigError, match="out of order"):
        pipeline.train(config, tmp_path, ["rl", "sl"])


def test_later_stages_without_their_checkpoints_name_the_missing_stage(tmp_path):
    from selfplay.run_folder import TrainingError

    config = pipeline.resolve("quick")
    with pytest.raises(TrainingError, match="run stage sl first"):
        pipeline.train(config, tmp_path, ["rl"])


@pytest.mark.parametrize("args,message", [
    (["--preset", "nope"], "preset 'nope' does not exist"),
    (["--set", "sl.epochs=-1"], "sl.epochs"),
    (["--stages", "bogus"], "unknown stage 'bogus'"),
    (["--stages", "value,sl"], "out of order"),
])
def test_train_command_bad_input_is_one_line_and_exit_2(args, message, tmp_path):
    out = subprocess.run([sys.executable, "-m", "selfplay.cli", "train", "--run", str(tmp_path / "r"), *args],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2
    assert message in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_report_puts_each_stage_beside_the_paper(tmp_path, monkeypatch):
    import builtins
    import json as json_module

    from selfplay.report import write_report

    lines = [{"stage": "sl", "epoch": 1, "train_loss": 2.0, "val_loss": 2.1, "val_top1": 0.41},
             {"stage": "sl", "epoch": 2, "train_loss": 1.8, "val_loss": 1.9, "val_top1": 0.47},
             {"stage": "rollout", "val_top1": 0.3},
             {"stage": "rl", "iteration": 1, "win_rate": 0.5, "entropy": 2.0, "win_rate_vs_sl": 0.62},
             {"stage": "value", "epoch": 1, "train_mse": 0.3, "val_mse": 0.33, "positions_per_game": "one"}]
    (tmp_path / "metrics.jsonl").write_text("\n".join(json_module.dumps(x) for x in lines) + "\nnot json\n")
    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    text = write_report(tmp_path).read_text()
    assert "47.0% validation top-1 (epoch 2 of 2)" in text and "57.0%" in text
    assert "62.0% wins against the SL policy" in text and "> 80%" in text
    assert "MSE 0.300 train / 0.330 validation" in text and "0.234" in text
    assert "install matplotlib" in text


@pytest.mark.parametrize("data,message", [
    ("{tmp}/missing", "does not exist: expected a folder or an archive of SGF files"),
    ("{tmp}/empty", "holds no SGF files"),
    ("tests/data", "0 usable 9x9 game(s), need at least 2 (skipped: 0 of another size, 1 with handicap"),
])
def test_unusable_training_data_is_one_line_and_exit_2(data, message, tmp_path):
    (tmp_path / "empty").mkdir()
    out = subprocess.run([sys.executable, "-m", "selfplay.cli", "train", "--run", str(tmp_path / "r"), "--stages", "sl",
                          "--set", f"sl.data={data.format(tmp=tmp_path)}", "--quiet"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2
    assert message in out.stderr and len(out.stderr.strip().splitlines()) == 1, out.stderr


def test_unset_fields_toml_arrays_and_their_round_trip_through_config_toml(tmp_path):
    config = pipeline.resolve("quick", ["value.filters=16", "mcts.mixing=none", "mcts.opponents=random,rl"])
    assert config.stages["value"].filters == 16 and config.stages["value"].u_max is None
    assert config.stages["mcts"].mixing is None and config.stages["mcts"].opponents == ("random", "rl")
    assert pipeline.resolve("quick", ['mcts.opponents=["sl"]']).stages["mcts"].opponents == ("sl",)
    text = pipeline.to_toml(config)
    assert "# u_max: unset (automatic)" in text and 'opponents = ["random", "rl"]' in text
    (tmp_path / "config.toml").write_text(text)
    assert pipeline.resolve(str(tmp_path / "config.toml")).stages == config.stages  # reruns as a preset
    with pytest.raises(pipeline.ConfigError, match=r"value.filters = 'wide' is a str, expected int or none"):
        pipeline.resolve("quick", ["value.filters=wide"])
    with pytest.raises(pipeline.ConfigError, match="expected a list of strings"):
        pipeline.resolve("quick", ["mcts.opponents=3"])
