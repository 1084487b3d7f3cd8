"""The same float network in every engine we compare against.

A kimi-fann layered network (dense, bias neuron per layer) is turned into weight matrices for
numpy, an ONNX graph for onnxruntime (one thread), and a .net file for libfann 2.2. Activations
follow FANN: sigmoid(x) = 1 / (1 + exp(-2 s x)), sigmoid_symmetric(x) = tanh(s x).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

import kimi_fann as kf

_ACTIVATIONS = ("sigmoid", "sigmoid_symmetric", "linear")


def dense_layers(net: kf.Network) -> list[tuple[np.ndarray, np.ndarray, str, float]]:
    """(W of shape (n_in, n_out), bias (n_out,), activation, steepness) per layer."""
    w = net.weights
    layers, at = [], 0
    for layer in range(1, len(net.layers)):
        n_in, n_out = net.layers[layer - 1], net.layers[layer]
        block = w[at : at + n_out * (n_in + 1)].reshape(n_out, n_in + 1)
        at += n_out * (n_in + 1)
        function, steepness = net.get_activation(layer, 0)
        if function not in _ACTIVATIONS:
            raise ValueError(f"peers support {_ACTIVATIONS}, not {function}")
        layers.append((np.ascontiguousarray(block[:, :-1].T), block[:, -1].copy(), function, steepness))
    return layers


def numpy_forward(net: kf.Network) -> Callable[[np.ndarray], np.ndarray]:
    """A float32 numpy forward pass of net."""
    layers = dense_layers(net)

    def run(x: np.ndarray) -> np.ndarray:
        h = x
        for w, b, function, s in layers:
            z = h @ w
            z += b
            z *= np.float32(s)
            if function == "sigmoid_symmetric":
                h = np.tanh(z)
            elif function == "sigmoid":
                h = 1.0 / (1.0 + np.exp(-2.0 * z))
            else:
                h = z
        return h

    return run


def onnx_session(net: kf.Network):
    """An onnxruntime session (one intra-op thread) computing net; input 'x', output 'y'."""
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    nodes, inits, prev = [], [], "x"
    for i, (w, b, function, s) in enumerate(dense_layers(net)):
        inits += [numpy_helper.from_array(w, f"w{i}"), numpy_helper.from_array(b, f"b{i}")]
        inits.append(numpy_helper.from_array(np.array(s * (2.0 if function == "sigmoid" else 1.0), np.float32), f"s{i}"))
        nodes += [
            helper.make_node("Gemm", [prev, f"w{i}", f"b{i}"], [f"z{i}"]),
            helper.make_node("Mul", [f"z{i}", f"s{i}"], [f"a{i}"]),
        ]
        op = {"sigmoid_symmetric": "Tanh", "sigmoid": "Sigmoid", "linear": "Identity"}[function]
        nodes.append(helper.make_node(op, [f"a{i}"], [f"h{i}"]))
        prev = f"h{i}"
    nodes.append(helper.make_node("Identity", [prev], ["y"]))
    graph = helper.make_graph(
        nodes,
        "kimi_fann_net",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, net.num_input])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, net.num_output])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])


def libfann_net(net: kf.Network, folder: Path):
    """net loaded into libfann 2.2 (through our .net file), or None without libfann."""
    import fannref

    if not fannref.available():
        return None
    path = folder / "peer.net"
    net.save(path)
    return fannref.FloatNet.load(str(path))


def numpy_rprop_epoch(net: kf.Network) -> Callable[[np.ndarray, np.ndarray], float]:
    """An iRPROP- epoch in numpy for a one-hidden-layer network (tanh error function, FANN's
    derivative clipping), vectorised over the batch: the numpy user's way to train."""
    (w1, b1, f1, s1), (w2, b2, f2, s2) = dense_layers(net)
    if (f1, f2) != ("sigmoid_symmetric", "sigmoid"):
        raise ValueError("numpy_rprop_epoch expects sigmoid_symmetric hidden and sigmoid output layers")
    params = [w1.copy(), b1.copy(), w2.copy(), b2.copy()]
    steps = [np.full_like(p, 0.1) for p in params]
    prev = [np.zeros_like(p) for p in params]

    def epoch(x: np.ndarray, y: np.ndarray) -> float:
        a, ab, c, cb = params
        h = np.tanh(s1 * (x @ a + ab))
        o = 1.0 / (1.0 + np.exp(-2.0 * s2 * (h @ c + cb)))
        diff = y - o
        mse = float(np.mean(diff * diff))
        e = np.where(diff < -0.9999999, -17.0, np.where(diff > 0.9999999, 17.0,
                     np.log((1.0 + diff) / (1.0 - np.clip(diff, None, 0.9999999)))))
        oc = np.clip(o, 0.01, 0.99)
        delta_o = (2.0 * s2 * oc * (1.0 - oc) * e).astype(np.float32)
        hc = np.clip(h, -0.98, 0.98)
        delta_h = (delta_o @ c.T) * (s1 * (1.0 - hc * hc))
        grads = [x.T @ delta_h, delta_h.sum(0), h.T @ delta_o, delta_o.sum(0)]
        for p, g, st, pg in zip(params, grads, steps, prev):
            same = pg * g
            st[...] = np.where(same >= 0, np.minimum(st * 1.2, 50.0), np.maximum(st * 0.5, 0.0))
            g = np.where(same < 0, 0.0, g)
            p += np.sign(g) * st + (g == 0) * st
            pg[...] = g
        return mse

    return epoch
