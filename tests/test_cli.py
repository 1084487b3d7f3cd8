"""The kimi-fann command line."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from kimi_fann import cli


def test_demo_reports_test_error(capsys) -> None:
    assert cli.main(["demo", "--epochs", "30", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["dataset"] == "diabetes" and result["epochs"] == 30
    assert 0 < result["test_mse"] < 0.25
    assert 0.6 < result["test_accuracy"] <= 1


def test_demo_text_output(capsys) -> None:
    assert cli.main(["demo", "--epochs", "5"]) == 0
    out = capsys.readouterr().out
    assert "test MSE" in out and "accuracy" in out


def test_info(capsys) -> None:
    assert cli.main(["info", "--json"]) == 0
    assert "sigmoid_symmetric" in json.loads(capsys.readouterr().out)["activations"]


def test_bad_usage_exits_2() -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["demo", "--epochs", "many"])
    assert info.value.code == 2


def test_failed_run_exits_1_with_one_line(capsys) -> None:
    assert cli.main(["demo", "--hidden", "0"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("kimi-fann demo: error:") and "\n" not in err


def test_console_script_runs() -> None:
    out = subprocess.run([sys.executable, "-m", "kimi_fann.cli", "info"], capture_output=True, text=True, check=True)
    assert "kimi-fann" in out.stdout
