"""The command line's pipes, missing files, empty inputs and distill messages (issue 17, item 6):
one line naming the file and what to do, no traceback, nothing wasted before a refusal."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import kimi_fann as kf
from kimi_fann.analyzer.teachers import onnx_parameters
from kimi_fann.cli import main


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("cli")
    rng = np.random.default_rng(0)
    net = kf.Network([3, 4, 2], seed=0)
    paths = {"net": folder / "net.net", "router": folder / "router.kfn", "x": folder / "x.npy",
             "big": folder / "big.npy", "empty": folder / "empty.csv", "pkl": folder / "teacher.pkl"}
    net.save(paths["net"])
    kf.save(paths["router"], kf.Router(rng.normal(size=(4, 3)), top_k=2))
    np.save(paths["x"], rng.uniform(-1, 1, (30, 3)))
    np.save(paths["big"], rng.uniform(-1, 1, (5000, 3)))
    paths["empty"].write_text("")
    paths["pkl"].write_bytes(b"\x80\x04N.")
    return paths


def fails(capsys, *args: object) -> str:
    assert main([str(a) for a in args]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"kimi-fann {args[0]}: error: ") and "\n" not in err, err
    return err.split(": error: ", 1)[1]


@pytest.mark.parametrize("command", [
    ("run", "{missing}", "{x}"),
    ("run", "{net}", "{missing}"),
    ("convert", "{missing}", "{out}"),
])
def test_missing_files_are_named_without_errno(files, capsys, tmp_path, command: tuple[str, ...]) -> None:
    missing = tmp_path / "nope.net" if "{missing}" == command[1] else tmp_path / "nope.npy"
    args = [a.format(missing=missing, x=files["x"], net=files["net"], out=tmp_path / "o.kfn") for a in command]
    assert fails(capsys, *args) == f"{missing}: no such file or directory"


def test_analyze_plots_into_an_unwritable_place_names_it(files, capsys, tmp_path) -> None:
    pytest.importorskip("matplotlib")
    blocker = tmp_path / "file"
    blocker.write_text("")
    reason = fails(capsys, "analyze", files["net"], "--data", files["x"], "--plots", blocker / "figs")
    assert reason.startswith(f"{blocker / 'figs'}: ") and "[Errno" not in reason


def test_an_empty_csv_is_refused_without_a_numpy_warning(files, capsys) -> None:
    assert fails(capsys, "run", files["net"], files["empty"]) == f"{files['empty']}: holds no rows of numbers"


def test_demo_refuses_an_existing_file_before_distilling(capsys, tmp_path, monkeypatch) -> None:
    target = tmp_path / "taken"
    target.write_text("keep me")
    import kimi_fann.analyzer as analyzer

    monkeypatch.setattr(analyzer, "distill", lambda *a, **k: pytest.fail("distilled before refusing"))
    assert fails(capsys, "demo", "--out", target) == f"{target}: exists and is not a folder; --out takes a folder " \
                                                      "to write into"
    assert target.read_text() == "keep me"


def test_route_says_how_many_rows_it_did_not_show(files, capsys) -> None:
    assert main(["route", str(files["router"]), str(files["x"])]) == 0
    out = capsys.readouterr().out
    assert "  ... 20 more rows (use --output or --json for all)\n" in out


def test_distill_names_the_teacher_formats_and_how_to_export(files, capsys, tmp_path) -> None:
    reason = fails(capsys, "distill", files["pkl"], files["x"], "-o", tmp_path / "s.kfn")
    assert reason.startswith(f"{files['pkl']}: a teacher on the command line is an ONNX file (.onnx), a FANN .net "
                             "or a .kfn; export a scikit-learn model with skl2onnx")
    assert "torch.onnx.export" in reason


def test_distill_says_which_options_size_the_student(files, capsys, tmp_path) -> None:
    reason = fails(capsys, "distill", files["net"], files["x"], "--size-ratio", "1000", "-o", tmp_path / "s.kfn")
    assert reason.endswith("give the hidden sizes (hidden=, --hidden) or a smaller size ratio "
                           "(size_ratio=, --size-ratio)")


def test_distill_warns_when_the_student_is_larger_than_the_teacher(files, capsys, tmp_path) -> None:
    assert main(["distill", str(files["net"]), str(files["x"]), "--experts", "1", "--hidden", "40",
                 "--epochs", "2", "-o", str(tmp_path / "s.kfn")]) == 0
    out = capsys.readouterr().out
    assert "(1/" not in out.splitlines()[0]
    assert "warning: the student is 9.3x larger than the teacher; give smaller --hidden sizes" in out


def test_an_onnx_tree_ensemble_counts_its_parameters() -> None:
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    # two stumps: one inner node (feature, threshold) and two leaves each, one weight per leaf
    node = helper.make_node(
        "TreeEnsembleRegressor", ["x"], ["y"], domain="ai.onnx.ml", n_targets=1,
        nodes_treeids=[0, 0, 0, 1, 1, 1], nodes_nodeids=[0, 1, 2, 0, 1, 2], nodes_featureids=[0, 0, 0, 1, 0, 0],
        nodes_values=[0.5, 0, 0, -0.5, 0, 0], nodes_modes=["BRANCH_LEQ", "LEAF", "LEAF"] * 2,
        nodes_truenodeids=[1, 0, 0, 1, 0, 0], nodes_falsenodeids=[2, 0, 0, 2, 0, 0],
        target_treeids=[0, 0, 1, 1], target_nodeids=[1, 2, 1, 2], target_ids=[0] * 4,
        target_weights=[1.0, 2.0, 3.0, 4.0])
    graph = helper.make_graph([node], "trees", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 2])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 1])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.ml", 3)])
    assert onnx_parameters(model) == 2 * 2 + 4
    # ai.onnx.ml opset 5 keeps them in tensors: 2 splits (feature and threshold each), 4 leaves
    node5 = helper.make_node(
        "TreeEnsemble", ["x"], ["y"], domain="ai.onnx.ml",
        nodes_splits=helper.make_tensor("s", TensorProto.FLOAT, [2], [0.5, -0.5]),
        leaf_weights=helper.make_tensor("w", TensorProto.FLOAT, [4], [1.0, 2.0, 3.0, 4.0]))
    graph5 = helper.make_graph([node5], "trees", graph.input, graph.output,
                               initializer=[helper.make_tensor("c", TensorProto.FLOAT, [3], [0.0, 1.0, 2.0])])
    assert onnx_parameters(helper.make_model(graph5)) == 3 + 2 * 2 + 4
    assert onnx.__name__ == "onnx"


@pytest.mark.parametrize("json_flag", [True, False])
def test_output_into_a_closed_pipe_gives_no_traceback(files, json_flag: bool) -> None:
    command = [sys.executable, "-m", "kimi_fann.cli", "run", str(files["net"]), str(files["big"])]
    if json_flag:
        command.append("--json")
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as reader:
        assert reader.stdout is not None and reader.stderr is not None
        reader.stdout.readline()
        reader.stdout.close()  # as head -1 does
        err = reader.stderr.read().decode()
        assert reader.wait(timeout=120) in (0, 1)  # 1 when it wrote into the closed pipe
    assert err == "", err  # no traceback, no BrokenPipeError at exit


def test_a_pipe_closed_while_the_command_works_ends_quietly(monkeypatch, capsys) -> None:
    import kimi_fann.cli.info as info

    def broken(args: object) -> dict:
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(info, "run", broken)
    assert main(["info"]) == 1
    assert capsys.readouterr().err == ""


def test_a_requantization_factor_that_is_not_finite_is_refused() -> None:
    from kimi_fann.errors import ConfigError
    from kimi_fann.quantize import _requant_params

    with pytest.raises(ConfigError, match="a requantization factor is not finite"):
        _requant_params(np.array([0.5, np.inf]))
    mult, shift = _requant_params(np.array([0.5, 0.0]))
    assert (mult.tolist(), shift.tolist()) == ([2**30, 0], [31, 1])
