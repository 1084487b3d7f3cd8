"""The command line's refusals, each with its one-line reason and exit code 1, and its plain-text
summaries. These call ``kimi_fann.cli.main`` in this process (the console script calls the same
function); test_cli.py runs the installed command in subprocesses."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import kimi_fann as kf
from kimi_fann.cli import main
from kimi_fann.cli._common import Progress, describe


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, Path]:
    """A 3-4-2 float network (.net and .kfn), its FANN fixed-point and Q8 forms, a router and a
    mixture over 3 inputs, and inputs in every format the commands read."""
    folder = tmp_path_factory.mktemp("models")
    rng = np.random.default_rng(0)
    net = kf.Network([3, 4, 2], hidden="sigmoid_symmetric", output="sigmoid", seed=0)
    x = rng.uniform(-1, 1, (12, 3))
    router = kf.Router(rng.normal(size=(3, 3)), top_k=2)
    moe = kf.MixtureOfExperts(router, [kf.Network([3, 4, 2], seed=s) for s in range(3)], domains=["a", "b", "c"])
    paths = {name: folder / name for name in ("net.net", "net.kfn", "fixed.net", "q8.kfn", "router.kfn", "moe.kfn",
                                              "x.npy", "x.csv", "row.npy", "objects.npy", "words.npy", "bad.csv", "x.json",
                                              "wide.npy", "x.data")}
    net.save(paths["net.net"])
    kf.save(paths["net.kfn"], net)
    net.save_fixed(paths["fixed.net"])
    kf.save(paths["q8.kfn"], net.quantize(calibration=x))
    kf.save(paths["router.kfn"], router)
    kf.save(paths["moe.kfn"], moe)
    np.save(paths["x.npy"], x)
    np.savetxt(paths["x.csv"], x, delimiter=",")
    np.save(paths["row.npy"], x[0])
    np.save(paths["objects.npy"], np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    np.save(paths["words.npy"], np.array([["a", "b", "c"]]))
    paths["bad.csv"].write_text("1,2,3\n4,five,6\n")
    paths["x.json"].write_text("[[1, 2, 3]]")
    np.save(paths["wide.npy"], rng.uniform(size=(2, 5)))
    kf.TrainingData(x, net.run(x)).save(paths["x.data"])
    return paths


def fails(capsys, *args: str) -> str:
    """Run the command, which must fail with exit code 1; return its one-line reason."""
    assert main([str(a) for a in args]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"kimi-fann {args[0]}: error: ") and "\n" not in err, err
    return err.split(": error: ", 1)[1]


def succeeds(capsys, *args: str) -> str:
    assert main([str(a) for a in args]) == 0
    return capsys.readouterr().out


def test_model_and_input_files_are_checked(models, capsys, tmp_path) -> None:
    text = tmp_path / "model.txt"
    text.write_text("FANN_FLO_2.1\n")
    assert fails(capsys, "run", text, models["x.npy"]) == f"{text}: expected a FANN .net or a .kfn model file"
    assert fails(capsys, "run", models["net.net"], models["objects.npy"]).startswith(
        f"{models['objects.npy']}: not a numeric .npy array (Object arrays cannot be loaded")
    assert fails(capsys, "run", models["net.net"], models["words.npy"]) == \
        f"{models['words.npy']}: not a numeric .npy array (dtype <U1)"
    assert fails(capsys, "run", models["net.net"], models["bad.csv"]).startswith(
        f"{models['bad.csv']}: not a table of numbers (")
    assert fails(capsys, "run", models["net.net"], models["x.json"]) == \
        f"{models['x.json']}: expected inputs as .data, .npy or .csv"
    assert fails(capsys, "run", models["net.net"], models["wide.npy"]) == \
        f"{models['wide.npy']}: the model takes 3 inputs per row; the file has shape (2, 5)"
    assert fails(capsys, "run", models["net.net"], models["x.npy"], "-o", tmp_path / "y.txt") == \
        f"{tmp_path / 'y.txt'}: outputs are written as .npy or .csv"


def test_one_row_of_inputs_is_one_sample(models, capsys) -> None:
    result = json.loads(succeeds(capsys, "run", models["net.net"], models["row.npy"], "--json"))
    net = kf.Network.load(models["net.net"])
    assert result["rows"] == 1
    np.testing.assert_allclose(result["outputs"], net.run(np.load(models["row.npy"])[None]), rtol=1e-6)


def test_run_and_route_take_their_own_kinds(models, capsys, tmp_path) -> None:
    assert fails(capsys, "run", models["router.kfn"], models["x.npy"]) == \
        f"{models['router.kfn']} holds a Router: use 'kimi-fann route'"
    assert fails(capsys, "route", models["net.kfn"], models["x.npy"]) == \
        f"{models['net.kfn']} holds a Network, not a Router or MixtureOfExperts"
    out = tmp_path / "routes.csv"
    summary = succeeds(capsys, "route", models["router.kfn"], models["x.npy"], "-o", out)
    experts, weights = kf.load(models["router.kfn"]).route(np.load(models["x.npy"]))
    np.testing.assert_allclose(np.loadtxt(out, delimiter=","), np.hstack([experts, weights]), rtol=1e-6)
    assert summary.startswith("Router 3 experts x 3, top 2: 12 rows routed\nload per expert:\n  expert_0")
    assert summary.endswith(f"wrote {out}\n")


def test_quantize_and_convert_refusals(models, capsys, tmp_path) -> None:
    assert fails(capsys, "quantize", models["fixed.net"], "--fann", "-o", tmp_path / "f.net") == \
        f"{models['fixed.net']} holds a FannFixedNetwork; quantize takes a float network"
    assert fails(capsys, "quantize", models["net.net"], "--fann", "-o", tmp_path / "f.kfn") == \
        "--fann writes a FANN_FIX_2.0 .net file"
    assert fails(capsys, "convert", models["net.net"], tmp_path / "n.net", "--compress", "q8") == \
        "--compress applies to .kfn output only"
    assert fails(capsys, "convert", models["net.net"], tmp_path / "d.kfn", "--compress", "deflate",
                 "--max-error", "0.1") == "--calibration and --max-error apply to --compress q8 or q4"
    assert fails(capsys, "convert", models["q8.kfn"], tmp_path / "q.net") == \
        f"{tmp_path / 'q.net'}: a FANN .net holds a float or FANN fixed-point network; use .kfn for FixedNetwork (q8)"
    assert fails(capsys, "convert", models["router.kfn"], tmp_path / "r.onnx") == \
        f"{tmp_path / 'r.onnx'}: ONNX export takes a float Network, got Router"
    assert fails(capsys, "convert", models["net.net"], tmp_path / "n.bin") == \
        f"{tmp_path / 'n.bin'}: expected a .kfn, .net or .onnx output path"
    assert not list(tmp_path.iterdir())  # nothing written by a refused command


def test_quantize_to_fann_fixed_point_summary(models, capsys, tmp_path) -> None:
    out = tmp_path / "fixed.net"
    summary = succeeds(capsys, "quantize", models["net.net"], "--fann", "-o", out)
    fixed = kf.FixedNetwork.load(out)
    assert summary == f"Network 3-4-2 -> {out}\nFANN fixed point, decimal point {fixed.decimal_point}\n"
    assert out.read_bytes() == Path(models["fixed.net"]).read_bytes()


def test_convert_from_safetensors(models, capsys, tmp_path) -> None:
    """A torch-style state dict of a 3-4-2 tanh/sigmoid MLP becomes the same network."""
    st = pytest.importorskip("safetensors.numpy")
    net = kf.Network([3, 4, 2], hidden="sigmoid_symmetric", output="sigmoid", seed=4)
    net.set_activation(steepness=1.0, layer="hidden")  # tanh(x); FANN's sigmoid at 0.5 is torch's sigmoid
    tensors = {}
    for i, layer in enumerate(net.topology.dense_layers(net.weights)):
        tensors[f"{2 * i}.weight"] = np.ascontiguousarray(layer.weights, dtype=np.float32)
        tensors[f"{2 * i}.bias"] = np.ascontiguousarray(layer.bias, dtype=np.float32)
    source = tmp_path / "mlp.safetensors"
    st.save_file(tensors, str(source))
    assert fails(capsys, "convert", source, tmp_path / "m.net") == \
        "a .safetensors file holds no activations: give --activations"
    result = json.loads(succeeds(capsys, "convert", source, tmp_path / "m.net", "--activations", "tanh", "sigmoid",
                                 "--json"))
    assert result["model"] == "Network 3-4-2" and result["bytes"] == (tmp_path / "m.net").stat().st_size
    x = np.load(models["x.npy"])
    np.testing.assert_allclose(kf.Network.load(tmp_path / "m.net").run(x), net.run(x), atol=1e-5)


def test_run_summary_shows_ten_rows(models, capsys) -> None:
    summary = succeeds(capsys, "run", models["fixed.net"], models["x.npy"]).splitlines()
    assert summary[0] == "FixedNetwork (fann) 3-4-2: 12 rows"
    assert len(summary) == 1 + 10 + 1 and summary[-1] == "  ... 2 more rows (use --output or --json for all)"
    fixed = kf.FixedNetwork.load(models["fixed.net"])
    first = fixed.run(np.load(models["x.npy"])[:1])[0]
    assert summary[1] == "  " + " ".join(f"{v:.6g}" for v in first)


def test_analyze_summary_of_a_mixture_with_plots(models, capsys, tmp_path) -> None:
    pytest.importorskip("matplotlib")
    moe = kf.load(models["moe.kfn"])
    experts, _ = moe.router.route(np.load(models["x.npy"]))
    summary = succeeds(capsys, "analyze", models["moe.kfn"], "--data", models["x.npy"], "--plots", tmp_path / "figs")
    counts = np.bincount(experts.ravel(), minlength=3)
    assert summary.startswith("mixture: 87 parameters, ")  # 3 x 26 weights and 3 x 3 gates
    for i, domain in enumerate("abc"):
        assert f"expert {i} ({domain}): network, 26 parameters, {counts[i]} inputs routed\n" in summary
    assert f"router load {counts.tolist()}: entropy " in summary
    pngs = sorted((tmp_path / "figs").glob("*.png"))
    assert pngs and all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)
    assert all(f"wrote {p}\n" in summary for p in pngs)


def test_analyze_notes_what_it_cannot_measure(models, capsys) -> None:
    summary = succeeds(capsys, "analyze", models["fixed.net"], "--data", models["x.npy"])
    assert summary.startswith("fann_fixed: 26 parameters, ")
    assert "\nnote: activation statistics of FANN fixed point come from a float emulation of its stored weights\n" \
        in summary


def test_bench_summary_names_the_report_it_wrote(capsys, tmp_path) -> None:
    report = tmp_path / "bench.json"
    summary = succeeds(capsys, "bench", "--layers", "3", "4", "2", "--batch-sizes", "1", "8", "--repeats", "2",
                       "--report", report)
    assert summary.startswith(f"Network 3-4-2 on the {kf.simd_path()} path, model ")
    assert summary.endswith(f"wrote {report}\n")
    assert kf.analyzer.load_report(report).kind == "profile"


def test_distill_takes_an_onnx_teacher_by_path(models, capsys, tmp_path) -> None:
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    teacher = tmp_path / "teacher.onnx"
    succeeds(capsys, "convert", models["net.net"], teacher)
    rng = np.random.default_rng(3)
    inputs = tmp_path / "inputs.npy"
    np.save(inputs, rng.uniform(-1, 1, (200, 3)))
    result = json.loads(succeeds(capsys, "distill", teacher, inputs, "--experts", "1", "--epochs", "20",
                                 "--hidden", "4", "--json"))
    assert result["teacher"] == "onnx teacher.onnx" and result["n_experts"] == 1
    assert result["teacher_parameters"] >= 4 * 4 + 5 * 2  # the graph's initializers: weights and constants


def test_demo_says_when_it_cannot_plot(monkeypatch, capsys, tmp_path) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if matplotlib were not installed
    summary = succeeds(capsys, "demo", "--out", tmp_path / "demo", "--epochs", "3", "--experts", "2")
    assert "plots skipped: matplotlib is not installed (pip install 'kimi-fann[analyzer]')\n" in summary
    assert (tmp_path / "demo" / "model.kfn").exists() and not list((tmp_path / "demo").glob("*.png"))


def test_progress_without_tqdm_is_silent(monkeypatch, capsys) -> None:
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    with Progress(3, "quiet", show=True) as bar:
        bar.update()
        bar.advance_to(3)
    assert capsys.readouterr().err == ""


def test_progress_bar_when_shown(capsys) -> None:
    pytest.importorskip("tqdm")
    with Progress(4, "counting", show=True, unit="step") as bar:
        bar.advance_to(4)
    assert "counting" in capsys.readouterr().err


def test_describe_names_any_model() -> None:
    assert describe(object()) == "object"


def test_python_dash_m_runs_the_command() -> None:
    done = subprocess.run([sys.executable, "-m", "kimi_fann.cli", "--version"], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0 and done.stdout.strip() == f"kimi-fann {kf.__version__}"


def test_train_summary_without_test_data_or_output(models, capsys, tmp_path) -> None:
    x = np.load(models["x.npy"])
    one = tmp_path / "one.data"
    kf.TrainingData(x, x[:, :1] * x[:, 1:2]).save(one)
    summary = succeeds(capsys, "train", one, "--hidden", "3", "--epochs", "5", "--target-error", "0").splitlines()
    assert len(summary) == 1 and summary[0].startswith("trained 3-3-1 with rprop: 5 epochs in ")
    summary = succeeds(capsys, "train", one, "--hidden", "3", "--epochs", "5", "--test", one).splitlines()
    assert summary[1].startswith("test MSE ") and "accuracy" not in summary[1]  # one output: no classes
