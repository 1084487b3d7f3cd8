"""The same float network in every engine we compare against.

A kimi-fann layered network (dense, bias neuron per layer) is turned into weight matrices for
numpy, an ONNX graph for onnxruntime (one thread), and a .net file for libfann 2.2. Activations
follow FANN: sigmoid(x) = 1 / (1 + exp(-2 s x)), sigmoid_symmetric(x) = tanh(s x).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

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
        steep = np.array(s * (2.0 if function == "sigmoid" else 1.0), np.float32)
        inits.append(numpy_helper.from_array(steep, f"s{i}"))
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
        with np.errstate(over="ignore"):  # exp(large) = inf gives the sigmoid's limit, 0
            o = 1.0 / (1.0 + np.exp(-2.0 * s2 * (h @ c + cb)))
        diff = y - o
        mse = float(np.mean(diff * diff))
        inner = np.clip(diff, -0.9999999, 0.9999999)  # log() sees no 0 where the clamps below apply
        e = np.where(diff < -0.9999999, -17.0, np.where(diff > 0.9999999, 17.0, np.log((1.0 + inner) / (1.0 - inner))))
        oc = np.clip(o, 0.01, 0.99)
        delta_o = (2.0 * s2 * oc * (1.0 - oc) * e).astype(np.float32)
        hc = np.clip(h, -0.98, 0.98)
        delta_h = (delta_o @ c.T) * (s1 * (1.0 - hc * hc))
        grads = [x.T @ delta_h, delta_h.sum(0), h.T @ delta_o, delta_o.sum(0)]
        for p, g, st, pg in zip(params, grads, steps, prev):
            same = pg * g
            st[...] = np.where(same >= 0, np.minimum(st * 1.2, 50.0), np.maximum(st * 0.5, 0.0))
            g = np.where(same < 0, 0.0, g)
            p += np.sign(g) * st  # no step where the slope is 0 (or was reset after a sign change)
            pg[...] = g
        return mse

    return epoch


def _calibrated_layers(net: kf.Network, calibration: np.ndarray):
    """(W (n_in, n_out) and b with steepness and FANN's factor 2 of sigmoid folded in, the
    TFLite activation op, the pre-activation range on calibration) per layer."""
    out, h = [], calibration.astype(np.float64)
    for w, b, function, s in dense_layers(net):
        k = s * (2.0 if function == "sigmoid" else 1.0)
        w_eff, b_eff = w.astype(np.float64) * k, b.astype(np.float64) * k
        pre = h @ w_eff + b_eff
        op = {"sigmoid": "LOGISTIC", "sigmoid_symmetric": "TANH", "linear": None}[function]
        out.append((w_eff, b_eff, op, (float(pre.min()), float(pre.max()))))
        h = {"LOGISTIC": lambda z: 1 / (1 + np.exp(-z)), "TANH": np.tanh, None: lambda z: z}[op](pre)
    return out


def _int8_range(lo: float, hi: float) -> tuple[float, int]:
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    scale = (hi - lo) / 255.0 or 1.0
    return scale, int(np.clip(np.rint(-128 - lo / scale), -128, 127))


def litert_int8(net: kf.Network, calibration: np.ndarray) -> bytes:
    """A fully int8 .tflite model of net (float in and out, int8 inside: per-channel int8
    weights, int32 biases, int8 activations), written with the flatbuffer schema that ships in
    ai-edge-litert, as TensorFlow's converter would quantize it."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as tfl

    tensors, buffers, operators, codes = [], [tfl.BufferT()], [], []

    def tensor(shape, dtype, scale=None, zero=None, data=None, axis=0, signature=None):
        t = tfl.TensorT()
        t.shape, t.type, t.name = list(shape), dtype, f"t{len(tensors)}".encode()
        if signature is not None:
            t.shapeSignature = list(signature)
        t.buffer = 0
        if data is not None:
            buf = tfl.BufferT()
            buf.data = np.frombuffer(data.tobytes(), dtype=np.uint8)
            buffers.append(buf)
            t.buffer = len(buffers) - 1
        if scale is not None:
            q = tfl.QuantizationParametersT()
            q.scale, q.zeroPoint, q.quantizedDimension = list(map(float, scale)), list(map(int, zero)), axis
            t.quantization = q
        tensors.append(t)
        return len(tensors) - 1

    def op(name, inputs, outputs, options=None):
        code = getattr(tfl.BuiltinOperator, name)
        if code not in [c.builtinCode for c in codes]:
            c = tfl.OperatorCodeT()
            c.builtinCode, c.deprecatedBuiltinCode = code, min(code, 127)
            c.version = {"FULLY_CONNECTED": 4, "TANH": 2, "LOGISTIC": 2, "QUANTIZE": 2, "DEQUANTIZE": 2}[name]
            codes.append(c)
        o = tfl.OperatorT()
        o.opcodeIndex = [c.builtinCode for c in codes].index(code)
        o.inputs, o.outputs = inputs, outputs
        if options is not None:
            o.builtinOptionsType, o.builtinOptions = tfl.BuiltinOptions.FullyConnectedOptions, options
        operators.append(o)

    n_in = net.num_input
    x_scale, x_zero = _int8_range(float(calibration.min()), float(calibration.max()))
    x_float = tensor([1, n_in], tfl.TensorType.FLOAT32, signature=[-1, n_in])
    x = tensor([1, n_in], tfl.TensorType.INT8, [x_scale], [x_zero], signature=[-1, n_in])
    op("QUANTIZE", [x_float], [x])
    scale = x_scale
    for w, b, act, (lo, hi) in _calibrated_layers(net, calibration):
        n_out = w.shape[1]
        w_scale = np.maximum(np.abs(w).max(axis=0), 1e-12) / 127.0
        w_q = np.clip(np.rint(w.T / w_scale[:, None]), -127, 127).astype(np.int8)
        b_scale = scale * w_scale
        b_q = np.rint(b / b_scale).astype(np.int32)
        wt = tensor([n_out, w.shape[0]], tfl.TensorType.INT8, w_scale, [0] * n_out, w_q)
        bt = tensor([n_out], tfl.TensorType.INT32, b_scale, [0] * n_out, b_q)
        pre_scale, pre_zero = _int8_range(lo, hi)
        pre = tensor([1, n_out], tfl.TensorType.INT8, [pre_scale], [pre_zero], signature=[-1, n_out])
        op("FULLY_CONNECTED", [x, wt, bt], [pre], tfl.FullyConnectedOptionsT())
        x, scale = pre, pre_scale
        if act is not None:  # int8 TANH outputs 1/128 steps around 0, LOGISTIC 1/256 from -128
            out_scale, out_zero = (1 / 128, 0) if act == "TANH" else (1 / 256, -128)
            x = tensor([1, n_out], tfl.TensorType.INT8, [out_scale], [out_zero], signature=[-1, n_out])
            op(act, [pre], [x])
            scale = out_scale
    y = tensor([1, net.num_output], tfl.TensorType.FLOAT32, signature=[-1, net.num_output])
    op("DEQUANTIZE", [x], [y])
    graph = tfl.SubGraphT()
    graph.tensors, graph.inputs, graph.outputs, graph.operators = tensors, [x_float], [y], operators
    model = tfl.ModelT()
    model.version, model.operatorCodes, model.subgraphs, model.buffers = 3, codes, [graph], buffers
    model.description = b"kimi-fann benchmark peer"
    builder = flatbuffers.Builder(1 << 20)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def litert_runner(net: kf.Network, calibration: np.ndarray, batch: int, threads: int = 1):
    """A callable running (batch, n_in) float32 arrays through the int8 model in LiteRT with the
    default (XNNPACK) delegate."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=litert_int8(net, calibration), num_threads=threads)
    inp, out = interpreter.get_input_details()[0]["index"], interpreter.get_output_details()[0]["index"]
    interpreter.resize_tensor_input(inp, [batch, net.num_input])
    interpreter.allocate_tensors()

    def run(x: np.ndarray) -> np.ndarray:
        interpreter.set_tensor(inp, x)
        interpreter.invoke()
        return interpreter.get_tensor(out)

    return run


def onnx_int8_session(net: kf.Network, folder: Path, threads: int = 1):
    """onnxruntime on the network quantized by onnxruntime's quantize_dynamic (int8 weights,
    activations quantized per call): MatMul + Add + activation per layer."""
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper
    from onnxruntime.quantization import QuantType, quantize_dynamic

    nodes, inits, prev = [], [], "x"
    for i, (w, b, function, s) in enumerate(dense_layers(net)):
        k = s * (2.0 if function == "sigmoid" else 1.0)
        inits += [numpy_helper.from_array((w * k).astype(np.float32), f"w{i}"),
                  numpy_helper.from_array((b * k).astype(np.float32), f"b{i}")]
        nodes += [helper.make_node("MatMul", [prev, f"w{i}"], [f"m{i}"]),
                  helper.make_node("Add", [f"m{i}", f"b{i}"], [f"z{i}"])]
        op = {"sigmoid_symmetric": "Tanh", "sigmoid": "Sigmoid", "linear": "Identity"}[function]
        nodes.append(helper.make_node(op, [f"z{i}"], [f"h{i}"]))
        prev = f"h{i}"
    nodes.append(helper.make_node("Identity", [prev], ["y"]))
    graph = helper.make_graph(nodes, "kimi_fann_net",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, net.num_input])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, net.num_output])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    fp32, int8 = folder / "fp32.onnx", folder / "int8.onnx"
    onnx.save(model, str(fp32))
    logging.getLogger().setLevel(logging.ERROR)  # quantize_dynamic's advice on pre-processing
    quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8)
    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    return ort.InferenceSession(str(int8), options, providers=["CPUExecutionProvider"])
