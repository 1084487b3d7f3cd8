"""The kimi-fann command line, run for real in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

import kimi_fann as kf
from kimi_fann import datasets

from consolescript import kimi_fann_command

COMMANDS = ["demo", "train", "run", "quantize", "convert", "analyze", "distill", "route", "bench", "info"]


def kimi_fann(*args: str, cwd: Path | None = None, check: bool = True) -> subprocess.CompletedProcess:
    """Run this interpreter's console script (python -m kimi_fann.cli where it has none), with
    argparse's help wrapped at 80 columns whatever the terminal."""
    done = subprocess.run(kimi_fann_command() + list(args), capture_output=True, text=True, cwd=cwd, timeout=600,
                          env={**os.environ, "COLUMNS": "80"})
    if check and done.returncode != 0:
        raise AssertionError(f"kimi-fann {' '.join(args)} exited {done.returncode}:\n{done.stderr}")
    return done


def as_json(*args: str, cwd: Path | None = None) -> dict:
    return json.loads(kimi_fann(*args, "--json", cwd=cwd).stdout)


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    """A training and a test file, a trained network and inputs, written once."""
    folder = tmp_path_factory.mktemp("cli")
    train, test = datasets.load("diabetes")
    paths = {"train": folder / "train.data", "test": folder / "test.data", "npy": folder / "x.npy",
             "csv": folder / "x.csv", "net": folder / "net.net"}
    train.save(paths["train"])
    test.save(paths["test"])
    np.save(paths["npy"], test.inputs[:20])
    np.savetxt(paths["csv"], test.inputs[:20], delimiter=",")
    net = kf.Network([8, 12, 2], seed=0)
    net.train(train, max_epochs=50, target_error=0)
    net.save(paths["net"])
    return paths


def test_demo_distils_reports_and_plots(tmp_path) -> None:
    pytest.importorskip("matplotlib")
    result = as_json("demo", "--out", "out", "--epochs", "60", cwd=tmp_path)
    folder = tmp_path / "out"
    assert result["n_experts"] == 6 and result["domains"] == [f"cluster_{i}" for i in range(1, 7)]
    assert result["float_accuracy"] >= 0.9 and 0 < result["weight_bytes"] < result["float_bytes"]
    assert result["precision"] == "q8" and result["parameter_ratio"] >= 20
    assert result["agreement"] >= 0.95 and result["fixed_agreement"] >= 0.95
    report = kf.analyzer.load_report(folder / "report.json")
    assert report.kind == "distillation" and report.history and report.analysis is not None
    assert isinstance(kf.load(folder / "model.kfn"), kf.MixtureOfExperts)
    pngs = sorted(p.name for p in folder.glob("*.png"))
    assert {"distillation-distillation.png", "distillation-load.png", "latency.png"} <= set(pngs)
    for png in pngs:
        assert (folder / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_demo_text_summary(tmp_path) -> None:
    out = kimi_fann("demo", "--out", "d", "--epochs", "20", "--no-plots", cwd=tmp_path).stdout
    lines = out.splitlines()
    assert lines[1].split() == ["on", "1,440", "held-out", "inputs", "float", "q8"]
    assert lines[3].startswith("agreement with the teacher ") and lines[3].endswith("%")
    assert lines[4].startswith("largest |output - teacher| ")
    assert lines[5].startswith("accuracy (the teacher's: 99.17%) ") and "-" not in lines[5].split(")")[1]
    assert lines[6].startswith("  agreement: inputs whose top output (class) is the teacher's")
    weights = next(line for line in lines if line.startswith("weights: "))
    float_bytes, q8_bytes = (int(w.replace(",", "")) for w in weights.split()[1:6:4])
    assert float_bytes == 7200 and q8_bytes < float_bytes  # like for like: the q8 weights are smaller
    assert any(line.startswith("model file: ") for line in lines)
    assert "router load (selections; each input goes to 2 expert(s)): cluster_1 " in out
    assert (tmp_path / "d" / "report.json").exists() and not list((tmp_path / "d").glob("*.png"))


def test_train_then_run_and_quantize(files, tmp_path) -> None:
    model = tmp_path / "m.kfn"
    result = as_json("train", str(files["train"]), "--hidden", "10", "--epochs", "40", "--test", str(files["test"]),
                     "-o", str(model))
    assert result["layers"] == [8, 10, 2] and result["epochs"] == 40 and 0.6 < result["test_accuracy"] <= 1
    net = kf.load(model)
    ran = as_json("run", str(model), str(files["test"]))
    np.testing.assert_allclose(np.array(ran["outputs"]), net.run(datasets.load("diabetes")[1].inputs), atol=1e-6)
    assert ran["accuracy"] == pytest.approx(result["test_accuracy"])

    out = tmp_path / "y.csv"
    kimi_fann("run", str(model), str(files["csv"]), "-o", str(out))
    np.testing.assert_allclose(np.loadtxt(out, delimiter=","), net.run(np.load(files["npy"])), atol=1e-6)

    q = as_json("quantize", str(model), "--calibration", str(files["train"]), "--bits", "16", "--weight-bits", "16",
                "-o", str(tmp_path / "q.kfn"))
    fixed = kf.load(tmp_path / "q.kfn")
    assert fixed.format == "q16" and q["max_abs_error"] < 1e-3
    fann = as_json("quantize", str(files["net"]), "--fann", "-o", str(tmp_path / "fixed.net"))
    assert kf.FixedNetwork.load(tmp_path / "fixed.net").decimal_point == fann["decimal_point"]


def test_train_cascade_grows_reports_and_saves(files, tmp_path) -> None:
    model = tmp_path / "grown.net"
    result = as_json("train", str(files["train"]), "--cascade", "--max-neurons", "3", "--max-out-epochs", "40",
                     "--max-cand-epochs", "40", "--output-activation", "sigmoid_symmetric", "--fann-seed", "5",
                     "--test", str(files["test"]), "-o", str(model))
    assert result["mode"] == "cascade" and result["neurons"] == 3 and result["layers"] == [8, 1, 1, 1, 2]
    assert [s["neurons"] for s in result["steps"]] == [0, 1, 2] and result["candidates"] == 80
    assert result["test_accuracy"] > 0.6
    # the same network as the Python API grows with the same stream
    net = kf.Network([8, 2], output="sigmoid_symmetric", shortcut=True, seed=0)
    net.cascade_max_out_epochs = net.cascade_max_cand_epochs = 40
    net.cascade_train(datasets.load("diabetes")[0], max_neurons=3, desired_error=1e-3, random=kf.FannRandom(5))
    assert kf.Network.load(model).to_fann_text() == net.to_fann_text()
    out = kimi_fann("train", str(files["train"]), "--cascade", "--max-neurons", "2", "--candidate-activations",
                    "sigmoid_symmetric", "elliot", "--candidate-groups", "1", "--algorithm", "quickprop").stdout
    assert "grew 2 hidden neurons" in out and "quickprop and 8 candidates" in out and "last neuron" in out
    for args, reason in ((["--cascade", "--hidden", "4"], "--hidden"), (["--max-neurons", "4"], "only with --cascade"),
                         (["--cascade", "--algorithm", "batch"], "batch")):
        done = kimi_fann("train", str(files["train"]), *args, check=False)
        assert done.returncode == 1 and reason in done.stderr


def test_quantize_explains_weights_that_8_bits_cannot_hold(tmp_path) -> None:
    """Weights of +-1500 (FANN's RPROP limit) that cancel, beside a weight of 5 on one neuron: Q8's
    per-neuron scale rounds the 5 to zero, and quantize says why the error is large and what to do."""
    net = kf.Network([3, 1], output="sigmoid_symmetric")
    net.weights = [1500.0, 5.0, -1500.0, 0.0]  # x0, x1, x2 (= x0 here), bias
    net.save(tmp_path / "big.net")
    t = np.linspace(0, 1, 50)
    x = np.column_stack([t, np.cos(7 * t), t])
    np.save(tmp_path / "x.npy", x)
    q8 = as_json("quantize", str(tmp_path / "big.net"), "--calibration", str(tmp_path / "x.npy"), "-o",
                 str(tmp_path / "q8.kfn"))
    assert q8["max_abs_error"] > 0.1 and "1500" in q8["hint"] and "--weight-bits 16" in q8["hint"]
    assert "note: the network's weights reach 1500" in kimi_fann(
        "quantize", str(tmp_path / "big.net"), "--calibration", str(tmp_path / "x.npy"), "-o", str(tmp_path / "q.kfn")).stdout
    q16 = as_json("quantize", str(tmp_path / "big.net"), "--calibration", str(tmp_path / "x.npy"), "--bits", "16",
                  "--weight-bits", "16", "-o", str(tmp_path / "q16.kfn"))
    assert q16["max_abs_error"] < 0.01 and "hint" not in q16

def test_convert_with_bounded_lossy_compression(files, tmp_path) -> None:
    """--compress q8 measures the compressed model on --calibration inputs and reports the share
    of rows whose prediction changed; a --max-error the compression cannot meet writes nothing."""
    x = np.load(files["npy"])
    result = as_json("convert", str(files["net"]), str(tmp_path / "q8.kfn"), "--compress", "q8",
                     "--calibration", str(files["npy"]), "--max-error", "0.05")
    assert result["calibration"] == "20 given rows" and result["max_error"] == 0.05
    assert 0 <= result["changed"] <= 0.05 and 0 <= result["exact_fraction"] <= 0.5
    original, loaded = kf.Network.load(files["net"]), kf.load(tmp_path / "q8.kfn")
    assert (loaded.run(x).argmax(axis=1) != original.run(x).argmax(axis=1)).mean() <= 0.05
    text = kimi_fann("convert", str(files["net"]), str(tmp_path / "q8b.kfn"), "--compress", "q8").stdout
    assert "rows changed their prediction (limit 1.00%)" in text and "sampled rows" in text
    refused = kimi_fann("convert", str(files["net"]), str(tmp_path / "q4.kfn"), "--compress", "q4",
                        "--calibration", str(files["npy"]), "--max-error", "-1", check=False)
    assert refused.returncode == 1 and not (tmp_path / "q4.kfn").exists()
    assert "max_error" in refused.stderr


def test_convert_between_formats(files, tmp_path) -> None:
    net = kf.Network.load(files["net"])
    x = np.load(files["npy"])
    kimi_fann("convert", str(files["net"]), str(tmp_path / "a.kfn"), "--compress", "deflate")
    kimi_fann("convert", str(tmp_path / "a.kfn"), str(tmp_path / "b.net"))
    assert (tmp_path / "b.net").read_bytes() == files["net"].read_bytes()
    if pytest.importorskip("onnx") and pytest.importorskip("onnxruntime"):
        import onnxruntime as ort

        kimi_fann("convert", str(files["net"]), str(tmp_path / "c.onnx"))
        session = ort.InferenceSession(str(tmp_path / "c.onnx"), providers=["CPUExecutionProvider"])
        y = session.run(None, {session.get_inputs()[0].name: x.astype(np.float32)})[0]
        np.testing.assert_allclose(y, net.run(x), atol=1e-5)
        kimi_fann("convert", str(tmp_path / "c.onnx"), str(tmp_path / "d.net"))
        np.testing.assert_allclose(kf.Network.load(tmp_path / "d.net").run(x), net.run(x), atol=1e-5)


def test_analyze_and_bench(files, tmp_path) -> None:
    result = as_json("analyze", str(files["net"]), "--data", str(files["test"]), "--report", str(tmp_path / "a.json"))
    assert result["parameters"] == 9 * 12 + 13 * 2 and len(result["layers"]) == 2
    assert kf.analyzer.load_report(tmp_path / "a.json").parameters == result["parameters"]
    bench = as_json("bench", str(files["net"]), "--batch-sizes", "1", "64", "--repeats", "5")
    assert [t["batch_size"] for t in bench["timings"]] == [1, 64]
    assert all(t["p50_us"] > 0 for t in bench["timings"]) and bench["simd"] == kf.simd_path()


def test_route_and_distill(files, tmp_path) -> None:
    teacher = tmp_path / "teacher.net"
    kf.Network([8, 64, 64, 2], seed=1).save(teacher)
    result = as_json("distill", str(teacher), str(files["train"]), "--experts", "3", "--epochs", "30",
                     "-o", str(tmp_path / "s.kfn"), "--report", str(tmp_path / "r.json"))
    assert result["n_experts"] == 3 and result["student_parameters"] * 20 <= result["teacher_parameters"]
    moe = kf.load(tmp_path / "s.kfn")
    routed = as_json("route", str(tmp_path / "s.kfn"), str(files["npy"]))
    experts, _ = moe.router.route(np.load(files["npy"]))
    assert routed["experts"] == experts.tolist()
    assert sum(routed["load"].values()) == 20 * moe.router.top_k


def test_info() -> None:
    result = as_json("info")
    assert result["version"] == kf.__version__ and result["simd"]["active"] == kf.simd_path()
    assert "thyroid" in result["datasets"] and "sigmoid_symmetric" in result["activations"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command) -> None:
    out = kimi_fann(command, "--help").stdout
    assert out.startswith("usage: kimi-fann " + command) and "--json" in out
    # long choice lists go in the epilog, not inline in the usage and option lines
    assert max(map(len, out.splitlines())) <= 100, out


def test_bad_usage_exits_2() -> None:
    done = kimi_fann("train", "x.data", "--epochs", "many", check=False)
    assert done.returncode == 2 and "invalid int value" in done.stderr
    assert kimi_fann("frobnicate", check=False).returncode == 2


def test_failed_run_exits_1_with_one_line(files, tmp_path) -> None:
    broken = tmp_path / "broken.net"
    broken.write_text("FANN_FLO_2.1\nnum_layers=banana\n")
    for args in (["run", str(broken), str(files["test"])], ["run", str(files["net"]), str(tmp_path / "none.npy")],
                 ["quantize", str(files["net"]), "-o", str(tmp_path / "q.kfn")]):
        done = kimi_fann(*args, check=False)
        err = done.stderr.strip()
        assert done.returncode == 1 and err.startswith(f"kimi-fann {args[0]}: error:") and "\n" not in err, err
