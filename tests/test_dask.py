"""Dask: predict over arrays and dataframes, and experts trained as cluster tasks, on a real
LocalCluster of two worker processes (no mocks). Every result must equal, bit for bit, what one
process computes."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import kimi_fann as kf
from kimi_fann import analyzer, errors

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")
dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")
pd = pytest.importorskip("pandas")
from kimi_fann.dask import predict  # noqa: E402

RNG = np.random.default_rng(16)
X = RNG.normal(size=(20_011, 6)).astype(np.float32)  # a prime number of rows: uneven chunks


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                                  worker_dashboard_address=":0") as cluster, distributed.Client(cluster) as c:
        yield c


def _models() -> dict[str, object]:
    net = kf.Network([6, 12, 3], hidden="sigmoid_symmetric", output="sigmoid", seed=1)
    net.train(kf.TrainingData(X[:500], (X[:500, :3] > 0)), max_epochs=20, target_error=0)
    experts = [kf.Network([6, 5, 3], hidden="elliot_symmetric", output="linear", seed=i) for i in range(4)]
    router = kf.Router(RNG.normal(size=(4, 6)), top_k=2, gate_bits=8)
    return {
        "float": net, "fann": net.to_fixed(), "q8": net.quantize(calibration=X[:1000]),
        "q16": net.quantize(calibration=X[:1000], activation_bits=16, weight_bits=16),
        "mixture": kf.MixtureOfExperts(router, experts, shared_expert=experts[0]),
        "q8 mixture": kf.MixtureOfExperts(router, [e.quantize(calibration=X[:1000]) for e in experts]),
    }


MODELS = _models()


def _bits(a: np.ndarray) -> bytes:
    return np.ascontiguousarray(a).tobytes()


@pytest.mark.parametrize("kind", list(MODELS))
def test_predict_arrays_equal_a_local_run(client, kind: str) -> None:
    model = MODELS[kind]
    x = da.from_array(X, chunks=(3_000, 3))  # column chunks are joined
    y = predict(model, x)
    assert isinstance(y, da.Array) and y.dtype == np.float32 and y.chunks[0] == x.chunks[0]
    got = y.compute()
    assert got.shape == (len(X), model.num_output) and _bits(got) == _bits(model.run(X))


def test_the_model_is_scattered_once(client) -> None:
    model = MODELS["mixture"]
    x = da.from_array(X, chunks=2_000)
    y = predict(model, x, client=client)
    # every chunk's task depends on one key holding the model, scattered to the workers; the
    # tasks themselves are small (the model is not in them)
    tasks = [t for k, t in dict(y.__dask_graph__()).items() if "_run_block" in str(k)]
    models = {k for t in tasks for k in t.dependencies if not isinstance(k, tuple)}  # chunks are (name, i, j)
    assert len(tasks) == len(x.chunks[0]) == 11 and len(models) == 1
    assert all(models <= t.dependencies for t in tasks)
    assert str(next(iter(models))) in {str(k) for k in client.who_has()}
    assert max(len(pickle.dumps(t)) for t in tasks) < len(pickle.dumps(model)) / 4
    assert _bits(y.compute()) == _bits(model.run(X))


def test_predict_again_and_again(client) -> None:
    """Each call scatters the model under its own key: a new call never loses the data of an
    earlier one being released (as one shared key would)."""
    model = MODELS["float"]
    x = da.from_array(X, chunks=4_000).persist()
    for _ in range(4):
        assert _bits(predict(model, x).compute()) == _bits(model.run(X))


def test_predict_without_a_cluster(client) -> None:
    model = MODELS["q16"]
    with dask.config.set(scheduler="threads"):
        y = predict(model, da.from_array(X, chunks=5_000))
        assert not any(str(k).startswith("QuantizedNetwork") for k in client.who_has())
        assert _bits(y.compute()) == _bits(model.run(X))


def test_router_routes(client) -> None:
    router = kf.Router(RNG.normal(size=(7, 6)), bias=RNG.normal(size=7), top_k=3, scoring="softmax")
    experts, weights = predict(router, da.from_array(X, chunks=4_096))
    want = router.route(X)
    assert experts.dtype == np.uint32 and weights.dtype == np.float32
    assert _bits(experts.compute()) == _bits(want[0]) and _bits(weights.compute()) == _bits(want[1])


def test_predict_dataframes(client) -> None:
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(6)], index=np.arange(len(X)) * 2)
    frame["f5"] = frame["f5"].astype(np.float64)  # mixed dtypes run as model.run runs them
    ddf = dd.from_pandas(frame, npartitions=5)
    model = MODELS["q8"]
    out = predict(model, ddf)
    assert list(out.columns) == ["output_0", "output_1", "output_2"] and out.npartitions == 5
    got = out.compute()
    assert got.index.equals(frame.index)
    assert _bits(got.to_numpy()) == _bits(model.run(frame.to_numpy()))
    router = kf.Router(RNG.normal(size=(5, 6)), top_k=2)
    routes = predict(router, ddf, columns=["first", "second", "w1", "w2"]).compute()
    want = router.route(frame.to_numpy())
    assert routes["first"].dtype == np.uint32 and routes["w1"].dtype == np.float32
    assert _bits(routes[["first", "second"]].to_numpy()) == _bits(want[0])
    assert _bits(routes[["w1", "w2"]].to_numpy()) == _bits(want[1])


def test_predict_refuses_what_does_not_fit(client) -> None:
    net = MODELS["float"]
    with pytest.raises(errors.ShapeError):
        predict(net, da.zeros((10, 5), chunks=5))
    with pytest.raises(errors.ShapeError):
        predict(net, da.zeros((10, 6), dtype=complex, chunks=5))
    with pytest.raises(errors.ConfigError):
        predict(net, X)  # numpy: model.run
    with pytest.raises(errors.ConfigError):
        predict(object(), da.zeros((10, 6), chunks=5))
    with pytest.raises(errors.ConfigError):
        predict(net, da.zeros((10, 6), chunks=5), client="tcp://127.0.0.1:8786")
    with pytest.raises(errors.ConfigError):
        predict(net, dd.from_pandas(pd.DataFrame(X[:10]), npartitions=1), columns=["a"])
    with pytest.raises(errors.NumericError):  # the worker's error comes back as itself
        predict(net, da.from_array(np.full((10, 6), np.nan), chunks=5)).compute()


# ---- training on the cluster ----


def _four_domains(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    centres = np.array([[1.0, 1, 0], [-1, 1, 0], [1, -1, 0], [-1, -1, 0]])
    domain = rng.integers(0, 4, n)
    x = centres[domain] + rng.normal(0, 0.3, (n, 3))
    y = 0.5 + 0.4 * np.sin(2 * x[:, 2:] + domain[:, None])
    return x, y, domain


def _same_mixture(a: kf.MixtureOfExperts, b: kf.MixtureOfExperts) -> None:
    assert _bits(a.router.gates) == _bits(b.router.gates) and _bits(a.router.bias) == _bits(b.router.bias)
    for p, q in zip(a.experts, b.experts):
        assert _bits(p.weights) == _bits(q.weights)
        assert p.mse == q.mse  # the training state came back whole


def test_mixture_fit_on_the_cluster_equals_the_local_fit(client) -> None:
    x, y, domain = _four_domains(3_000, np.random.default_rng(0))
    data = kf.TrainingData(x, y)
    options = {"n_experts": 4, "hidden": 6, "top_k": 2, "max_epochs": 30, "seed": 7}
    local = kf.MixtureOfExperts.fit(data, **options)
    with distributed.get_task_stream(client) as stream:
        remote = kf.MixtureOfExperts.fit(data, client=client, **options)
    names = [t["key"] for t in stream.data]
    assert sum(str(k).startswith("train_expert") for k in names) == 4  # the experts trained as tasks
    _same_mixture(local, remote)
    # the same values as dask arrays: routed and grouped by expert on the workers
    xd, yd = da.from_array(x, chunks=700), da.from_array(y, chunks=500)
    with distributed.get_task_stream(client) as stream:
        from_dask = kf.MixtureOfExperts.fit((xd, yd), client=client, **options)
    names = [str(t["key"]) for t in stream.data]
    assert sum(k.startswith("_group_chunk") for k in names) == len(xd.chunks[0])
    _same_mixture(local, from_dask)
    with dask.config.set(scheduler="threads"):  # dask's local scheduler, no cluster
        _same_mixture(local, kf.MixtureOfExperts.fit((xd, yd), **options))
    # labels, numpy or dask
    labelled = kf.MixtureOfExperts.fit(data, labels=domain, **options)
    _same_mixture(labelled, kf.MixtureOfExperts.fit((xd, yd), labels=da.from_array(domain, chunks=999),
                                                    client=client, **options))


def test_mixture_fit_samples_the_router_rows(client, monkeypatch) -> None:
    import kimi_fann.mixture

    monkeypatch.setattr(kimi_fann.mixture, "ROUTER_ROWS", 1_000)
    x, y, _ = _four_domains(2_500, np.random.default_rng(1))
    options = {"n_experts": 3, "hidden": 4, "max_epochs": 10, "seed": 3}
    local = kf.MixtureOfExperts.fit(kf.TrainingData(x, y), **options)
    _same_mixture(local, kf.MixtureOfExperts.fit((da.from_array(x, chunks=600), da.from_array(y, chunks=600)),
                                                 client=client, **options))


def test_mixture_fit_refuses_what_does_not_fit(client) -> None:
    x = da.zeros((100, 3), chunks=50)
    with pytest.raises(errors.ShapeError):
        kf.MixtureOfExperts.fit((x, da.zeros((99, 1), chunks=50)), n_experts=2)
    with pytest.raises(errors.ShapeError):
        kf.MixtureOfExperts.fit((x[x[:, 0] > 0], da.zeros((100, 1), chunks=50)), n_experts=2)  # unknown chunks
    with pytest.raises(errors.ConfigError):
        kf.MixtureOfExperts.fit((np.zeros((100, 3)), np.zeros(100)), n_experts=2)
    with pytest.raises(errors.ConfigError):
        kf.MixtureOfExperts.fit(kf.TrainingData(np.zeros((10, 3)), np.zeros(10)), n_experts=2, client=object())
    with pytest.raises(errors.ShapeError):
        kf.MixtureOfExperts.fit((x, da.zeros(100, chunks=50)), n_experts=2, labels=da.full(100, 5, chunks=50))


def test_distill_on_the_cluster_equals_the_local_distillation(client) -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(size=(900, 5))
    w = rng.normal(size=(5, 3))
    options = {"n_experts": 3, "hidden": 5, "max_epochs": 40, "seed": 11}
    local, report = analyzer.distill(lambda v: v @ w, x, **options)
    ticks: list[tuple[int, int]] = []
    with distributed.get_task_stream(client) as stream:
        remote, remote_report = analyzer.distill(lambda v: v @ w, x, client=client,
                                                 progress=lambda done, total: ticks.append((done, total)), **options)
    assert sum(str(t["key"]).startswith("train_student") for t in stream.data) == 3
    assert ticks[-1] == (120, 120)
    assert _bits(remote.run(x)) == _bits(local.run(x))
    assert [e.spec.layers[0].weights.tobytes() for e in remote.experts] == \
        [e.spec.layers[0].weights.tobytes() for e in local.experts]
    assert remote_report.history == report.history and remote_report.agreement == report.agreement
    with pytest.raises(errors.ConfigError, match="in memory"):
        analyzer.distill(lambda v: v @ w, da.from_array(x), client=client)
