# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
"""The compiled core of kimi-fann: thin owners of the C objects, no numpy required.

Arrays travel through the buffer protocol (typed memoryviews): float32, C-contiguous. Shapes are
checked here before the GIL is released around the C call; the C core checks them again and
its status codes become the exceptions of :mod:`kimi_fann.errors`.
"""

from libc.stdint cimport uint8_t, int16_t, uint32_t, uint64_t, int32_t
from libc.stdlib cimport malloc, free
from libc.string cimport memcpy
from cpython.buffer cimport PyObject_GetBuffer, PyBuffer_Release, PyBUF_C_CONTIGUOUS, PyBUF_FORMAT

from kimi_fann.errors import error_for_status, ShapeError

STATUS_COUNT = KF_STATUS_COUNT_
ACTIVATION_COUNT = KF_ACTIVATION_COUNT_


def status_str(int status):
    """The C core's description of a status code."""
    return kf_status_str(<kf_status>status).decode()


def activation_names():
    """Names of the activation functions, indexed by their FANN enum value."""
    return [kf_activation_name(<kf_activation>i).decode() for i in range(KF_ACTIVATION_COUNT_)]


def param_names():
    """Names of the training parameters, indexed by kf_param."""
    return [kf_param_name(<kf_param>i).decode() for i in range(KF_PARAM_COUNT_)]


def apply_activation(int activation, float[::1] values):
    """Apply one activation function in place, as a neuron computes it (values = steepness * sum)."""
    cdef Py_ssize_t i
    if activation < 0 or activation >= KF_ACTIVATION_COUNT_:
        raise error_for_status(KF_E_ARG, f"activation {activation} is not one of 0..{KF_ACTIVATION_COUNT_ - 1}")
    with nogil:
        for i in range(values.shape[0]):
            values[i] = kf_activation_apply(<kf_activation>activation, values[i])


cdef int check(kf_status st, str what) except -1:
    if st != KF_OK:
        raise error_for_status(st, f"{what}: {kf_status_str(st).decode()}")
    return 0


cdef int check_diag(kf_status st, kf_diag *diag, str source) except -1:
    if st == KF_OK:
        return 0
    if st == KF_E_FORMAT:
        where = f"{source}, line {diag.line}" if diag.line else source
        raise error_for_status(st, f"{where}: {diag.message.decode(errors='replace')}")
    return check(st, source)


cdef bytes take_text(char *text, size_t length):
    try:
        return text[:length]
    finally:
        kf_free(text)


cdef kf_data data_view(const float[:, ::1] X, const float[:, ::1] Y) noexcept:
    """A kf_data over two 2-D buffers (Y may have zero columns)."""
    cdef kf_data d
    d.num_data = <uint32_t>X.shape[0]
    d.num_input = <uint32_t>X.shape[1]
    d.num_output = <uint32_t>Y.shape[1]
    d.input = <float *>&X[0, 0] if X.shape[0] * X.shape[1] > 0 else NULL
    d.output = <float *>&Y[0, 0] if Y.shape[0] * Y.shape[1] > 0 else NULL
    return d


cdef int check_pairs(const float[:, ::1] X, const float[:, ::1] Y) except -1:
    if X.shape[0] != Y.shape[0]:
        raise ShapeError(f"inputs have {X.shape[0]} rows but outputs have {Y.shape[0]}")
    if X.shape[0] > 0xFFFFFFFF or X.shape[1] > 0xFFFFFFFF or Y.shape[1] > 0xFFFFFFFF:
        raise error_for_status(KF_E_LIMIT, "data set too large")
    return 0


cdef class Net:
    """Owner of one C network (kf_net)."""

    def __dealloc__(self):
        kf_net_free(self.ptr)
        self.ptr = NULL

    @staticmethod
    cdef Net wrap(kf_net *ptr):
        cdef Net net = Net.__new__(Net)
        net.ptr = ptr
        return net

    @staticmethod
    def create(layers, bint shortcut, float connection_rate, uint64_t seed):
        cdef Py_ssize_t n = len(layers), i
        cdef uint32_t *sizes
        cdef kf_net *ptr = NULL
        cdef kf_status st
        if n < 2 or n > 64:
            raise error_for_status(KF_E_ARG, f"a network needs 2 to 64 layers, got {n}")
        sizes = <uint32_t *>malloc(n * sizeof(uint32_t))
        if sizes == NULL:
            raise MemoryError()
        try:
            for i in range(n):
                sizes[i] = layers[i]
            with nogil:
                st = kf_net_create(sizes, <uint32_t>n, KF_NET_SHORTCUT if shortcut else KF_NET_LAYER,
                                   connection_rate, seed, &ptr)
        finally:
            free(sizes)
        check(st, "cannot create the network")
        return Net.wrap(ptr)

    @staticmethod
    def parse_fann(const unsigned char[::1] text, str source):
        cdef kf_net *ptr = NULL
        cdef kf_diag diag
        cdef kf_status st
        cdef const char *p = <const char *>&text[0] if text.shape[0] > 0 else NULL
        cdef size_t n = text.shape[0]
        with nogil:
            st = kf_net_parse_fann(p, n, &ptr, &diag)
        check_diag(st, &diag, source)
        return Net.wrap(ptr)

    def format_fann(self):
        cdef char *text = NULL
        cdef size_t n = 0
        cdef kf_status st
        with nogil:
            st = kf_net_format_fann(self.ptr, &text, &n)
        check(st, "cannot write the network")
        return take_text(text, n)

    @staticmethod
    def assemble(bint shortcut, float connection_rate, const uint32_t[::1] layer_start, const uint32_t[::1] con_start,
                 const uint32_t[::1] con_src, const float[::1] weights, const uint8_t[::1] activation,
                 const float[::1] steepness, object scaling, str source):
        """A network from its arrays (what read_structure and read_weights give), checked."""
        cdef kf_params params
        cdef kf_net *ptr = NULL
        cdef kf_diag diag
        cdef kf_status st
        cdef const float[::1] sc
        cdef const float *sc_ptr = NULL
        cdef Py_ssize_t N = con_start.shape[0] - 1
        if layer_start.shape[0] < 3 or N < 1 or activation.shape[0] != N or steepness.shape[0] != N \
                or con_src.shape[0] != weights.shape[0] or layer_start[layer_start.shape[0] - 1] != N \
                or con_start[N] != con_src.shape[0]:
            raise error_for_status(KF_E_FORMAT, f"{source}: the network's arrays disagree in size")
        if scaling is not None:
            sc = scaling
            n_in = layer_start[1] - 1
            last = layer_start[layer_start.shape[0] - 1] - layer_start[layer_start.shape[0] - 2]
            n_out = last - (0 if shortcut else 1)
            if sc.shape[0] != 4 * (n_in + n_out):
                raise error_for_status(
                    KF_E_FORMAT, f"{source}: scaling holds {sc.shape[0]} values, expected {4 * (n_in + n_out)}")
            sc_ptr = &sc[0]
        kf_params_default(&params)
        st = kf_net_assemble(<uint32_t>(layer_start.shape[0] - 1), KF_NET_SHORTCUT if shortcut else KF_NET_LAYER,
                             connection_rate, &layer_start[0], &con_start[0],
                             &con_src[0] if con_src.shape[0] else NULL, &weights[0] if weights.shape[0] else NULL,
                             &activation[0], &steepness[0], &params, sc_ptr, &ptr, &diag)
        check_diag(st, &diag, source)
        return Net.wrap(ptr)

    def get_cascade(self):
        """(activation functions, steepnesses) of the cascade-correlation settings."""
        cdef kf_params *p = &self.ptr.params
        return ([p.cascade_activation_functions[i] for i in range(p.cascade_activation_functions_count)],
                [p.cascade_activation_steepnesses[i] for i in range(p.cascade_activation_steepnesses_count)])

    def set_cascade(self, list functions, list steepnesses):
        cdef kf_params *p = &self.ptr.params
        cdef Py_ssize_t i
        if len(functions) > 64 or len(steepnesses) > 64:
            raise error_for_status(KF_E_LIMIT, "at most 64 cascade activation functions and steepnesses")
        for f in functions:
            if not 0 <= f < KF_ACTIVATION_COUNT_:
                raise error_for_status(KF_E_ARG, f"cascade activation function {f} out of range")
        for v in steepnesses:
            if v != v or v in (float("inf"), float("-inf")):
                raise error_for_status(KF_E_NUMERIC, "a cascade steepness is not finite")
        p.cascade_activation_functions_count = len(functions)
        for i in range(len(functions)):
            p.cascade_activation_functions[i] = functions[i]
        p.cascade_activation_steepnesses_count = len(steepnesses)
        for i in range(len(steepnesses)):
            p.cascade_activation_steepnesses[i] = steepnesses[i]

    def copy(self):
        cdef kf_net *ptr = NULL
        check(kf_net_copy(self.ptr, &ptr), "cannot copy the network")
        return Net.wrap(ptr)

    @property
    def num_input(self):
        return self.ptr.num_input

    @property
    def num_output(self):
        return self.ptr.num_output

    @property
    def total_neurons(self):
        return self.ptr.total_neurons

    @property
    def total_connections(self):
        return self.ptr.total_connections

    @property
    def shortcut(self):
        return self.ptr.network_type == KF_NET_SHORTCUT

    @property
    def connection_rate(self):
        return self.ptr.connection_rate

    @property
    def has_scaling(self):
        return bool(self.ptr.has_scaling)

    def layer_sizes(self):
        return [kf_net_layer_size(self.ptr, l) for l in range(self.ptr.num_layers)]

    def layer_starts(self):
        return [self.ptr.layer_start[l] for l in range(self.ptr.num_layers + 1)]

    def get_param(self, int p):
        cdef double v = 0
        if p < 0 or p >= KF_PARAM_COUNT_:
            raise error_for_status(KF_E_ARG, f"no parameter number {p}")
        check(kf_net_get_param(self.ptr, <kf_param>p, &v), "cannot read the parameter")
        return v

    def set_param(self, int p, double value):
        if p < 0 or p >= KF_PARAM_COUNT_:
            raise error_for_status(KF_E_ARG, f"no parameter number {p}")
        check(kf_net_set_param(self.ptr, <kf_param>p, value), f"{kf_param_name(<kf_param>p).decode()}={value!r}")

    def set_activation(self, uint32_t layer, int32_t neuron, int activation):
        check(kf_net_set_activation(self.ptr, layer, neuron, <kf_activation>activation),
              f"cannot set activation {activation} on layer {layer}, neuron {neuron}")

    def set_steepness(self, uint32_t layer, int32_t neuron, float steepness):
        check(kf_net_set_steepness(self.ptr, layer, neuron, steepness),
              f"cannot set steepness {steepness} on layer {layer}, neuron {neuron}")

    def get_activation(self, uint32_t layer, uint32_t neuron):
        cdef kf_activation a
        cdef float s
        check(kf_net_get_activation(self.ptr, layer, neuron, &a, &s),
              f"no neuron {neuron} in layer {layer}")
        return int(a), s

    def read_weights(self, float[::1] out):
        if out.shape[0] != self.ptr.total_connections:
            raise ShapeError(f"expected room for {self.ptr.total_connections} weights, got {out.shape[0]}")
        if out.shape[0]:
            memcpy(&out[0], self.ptr.weights, out.shape[0] * sizeof(float))

    def write_weights(self, const float[::1] weights):
        cdef const float *p = &weights[0] if weights.shape[0] > 0 else NULL
        check(kf_net_set_weights(self.ptr, p, weights.shape[0]),
              f"cannot set {weights.shape[0]} weights on a network of {self.ptr.total_connections}")

    def read_structure(self, uint32_t[::1] con_start, uint32_t[::1] con_src, uint8_t[::1] activation,
                       float[::1] steepness):
        """Copy the connection structure and per-neuron activations into the given buffers."""
        cdef uint32_t N = self.ptr.total_neurons, C = self.ptr.total_connections
        if con_start.shape[0] != N + 1 or con_src.shape[0] != C or activation.shape[0] != N \
                or steepness.shape[0] != N:
            raise ShapeError("structure buffers do not match the network")
        memcpy(&con_start[0], self.ptr.con_start, (N + 1) * sizeof(uint32_t))
        if C:
            memcpy(&con_src[0], self.ptr.con_src, C * sizeof(uint32_t))
        memcpy(&activation[0], self.ptr.activation, N)
        memcpy(&steepness[0], self.ptr.steepness, N * sizeof(float))

    def randomize_weights(self, float lo, float hi, uint64_t seed):
        check(kf_net_randomize_weights(self.ptr, lo, hi, seed), f"cannot draw weights in [{lo}, {hi}]")

    def init_weights(self, const float[:, ::1] X, uint64_t seed):
        cdef kf_data d
        if X.shape[1] != self.ptr.num_input:
            raise ShapeError(f"the network has {self.ptr.num_input} inputs, the data {X.shape[1]}")
        d.num_data = <uint32_t>X.shape[0]
        d.num_input = <uint32_t>X.shape[1]
        d.num_output = 0
        d.input = <float *>&X[0, 0] if X.shape[0] > 0 else NULL
        d.output = NULL
        check(kf_net_init_weights(self.ptr, &d, seed), "cannot initialise the weights (Nguyen-Widrow)")

    def run_fast(self, object x, Py_ssize_t max_rows=-1):
        """As QNet.run_fast, for the float network."""
        return run_buffer(x, self.ptr.num_input, self.ptr.num_output, max_rows, <void *>self.ptr, 0, run_net)

    def run(self, const float[:, ::1] X, float[:, ::1] Y):
        cdef uint64_t scratch_floats = kf_net_scratch_floats(self.ptr)
        cdef float *scratch
        cdef kf_status st
        if X.shape[1] != self.ptr.num_input or Y.shape[1] != self.ptr.num_output or X.shape[0] != Y.shape[0]:
            raise ShapeError(f"expected inputs (n, {self.ptr.num_input}) and outputs (n, {self.ptr.num_output}), "
                             f"got ({X.shape[0]}, {X.shape[1]}) and ({Y.shape[0]}, {Y.shape[1]})")
        if X.shape[0] == 0:
            return
        scratch = <float *>malloc(scratch_floats * sizeof(float))
        if scratch == NULL:
            raise MemoryError()
        try:
            with nogil:
                st = kf_net_run(self.ptr, &X[0, 0], X.shape[0], &Y[0, 0], scratch, scratch_floats)
        finally:
            free(scratch)
        check(st, "cannot run the network")

    def test(self, const float[:, ::1] X, const float[:, ::1] Y):
        cdef uint64_t scratch_floats = kf_net_scratch_floats(self.ptr)
        cdef float *scratch
        cdef kf_epoch_stats stats
        cdef kf_data d
        cdef kf_status st
        check_pairs(X, Y)
        d = data_view(X, Y)
        scratch = <float *>malloc(scratch_floats * sizeof(float))
        if scratch == NULL:
            raise MemoryError()
        try:
            with nogil:
                st = kf_net_test(self.ptr, &d, scratch, scratch_floats, &stats)
        finally:
            free(scratch)
        check(st, "cannot test the network")
        return stats.mse, stats.bit_fail

    def set_scaling(self, const float[:, ::1] X, const float[:, ::1] Y, int which, float in_min, float in_max,
                    float out_min, float out_max):
        cdef kf_data d
        check_pairs(X, Y)
        d = data_view(X, Y)
        check(kf_net_set_scaling(self.ptr, &d, which, in_min, in_max, out_min, out_max),
              "cannot compute scaling parameters")

    def clear_scaling(self):
        kf_net_clear_scaling(self.ptr)

    def scale(self, int op, float[:, ::1] values):
        cdef uint32_t cols = self.ptr.num_input if op in (KF_SCALE_INPUT, KF_DESCALE_INPUT) else self.ptr.num_output
        if values.shape[1] != cols:
            raise ShapeError(f"expected rows of {cols} values, got {values.shape[1]}")
        if values.shape[0] == 0:
            return
        check(kf_net_scale(self.ptr, <kf_scale_op>op, &values[0, 0], values.shape[0]), "cannot scale")

    def write_scaling(self, const float[::1] values):
        """Replace the 8 scaling arrays (the layout of read_scaling) and mark them present."""
        cdef uint64_t n = 4 * (<uint64_t>self.ptr.num_input + self.ptr.num_output)
        if <uint64_t>values.shape[0] != n:
            raise ShapeError(f"expected {n} scaling values, got {values.shape[0]}")
        if n:
            memcpy(self.ptr.scale_mean_in, &values[0], n * sizeof(float))
        self.ptr.has_scaling = 1

    def read_scaling(self, float[::1] out):
        """Copy the 8 scaling arrays (mean, deviation, new_min, factor; inputs then outputs)."""
        cdef uint64_t n = 4 * (<uint64_t>self.ptr.num_input + self.ptr.num_output)
        if <uint64_t>out.shape[0] != n:
            raise ShapeError(f"expected room for {n} values")
        if n:
            memcpy(&out[0], self.ptr.scale_mean_in, n * sizeof(float))


cdef class FixNet:
    """Owner of one FANN fixed-point network (kf_fixnet)."""

    def __dealloc__(self):
        kf_fixnet_free(self.ptr)
        self.ptr = NULL

    @staticmethod
    cdef FixNet wrap(kf_fixnet *ptr):
        cdef FixNet net = FixNet.__new__(FixNet)
        net.ptr = ptr
        return net

    @staticmethod
    def parse_fann(const unsigned char[::1] text, str source):
        cdef kf_fixnet *ptr = NULL
        cdef kf_diag diag
        cdef kf_status st
        cdef const char *p = <const char *>&text[0] if text.shape[0] > 0 else NULL
        cdef size_t n = text.shape[0]
        with nogil:
            st = kf_fixnet_parse_fann(p, n, &ptr, &diag)
        check_diag(st, &diag, source)
        return FixNet.wrap(ptr)

    @staticmethod
    def from_net(Net net not None):
        cdef kf_fixnet *ptr = NULL
        check(kf_net_to_fixnet(net.ptr, &ptr), "cannot convert the network to fixed point")
        return FixNet.wrap(ptr)

    def format_fann(self):
        cdef char *text = NULL
        cdef size_t n = 0
        cdef kf_status st
        with nogil:
            st = kf_fixnet_format_fann(self.ptr, &text, &n)
        check(st, "cannot write the network")
        return take_text(text, n)

    @property
    def num_input(self):
        return self.ptr.num_input

    @property
    def num_output(self):
        return self.ptr.num_output

    @property
    def total_neurons(self):
        return self.ptr.total_neurons

    @property
    def total_connections(self):
        return self.ptr.total_connections

    @property
    def decimal_point(self):
        return self.ptr.decimal_point

    @property
    def multiplier(self):
        return self.ptr.multiplier

    def layer_sizes(self):
        cdef uint32_t l, bias
        sizes = []
        for l in range(self.ptr.num_layers):
            bias = 1 if (l == 0 or self.ptr.network_type == KF_NET_LAYER) else 0
            sizes.append(self.ptr.layer_start[l + 1] - self.ptr.layer_start[l] - bias)
        return sizes

    def activations(self):
        """Activation of every neuron, as bytes."""
        return (<char *>self.ptr.activation)[:self.ptr.total_neurons]

    def run(self, const int32_t[:, ::1] X, int32_t[:, ::1] Y):
        cdef uint64_t scratch_ints = kf_fixnet_scratch_ints(self.ptr)
        cdef int32_t *scratch
        cdef kf_status st
        if X.shape[1] != self.ptr.num_input or Y.shape[1] != self.ptr.num_output or X.shape[0] != Y.shape[0]:
            raise ShapeError(f"expected inputs (n, {self.ptr.num_input}) and outputs (n, {self.ptr.num_output}), "
                             f"got ({X.shape[0]}, {X.shape[1]}) and ({Y.shape[0]}, {Y.shape[1]})")
        if X.shape[0] == 0:
            return
        scratch = <int32_t *>malloc(scratch_ints * sizeof(int32_t))
        if scratch == NULL:
            raise MemoryError()
        try:
            with nogil:
                st = kf_fixnet_run(self.ptr, &X[0, 0], X.shape[0], &Y[0, 0], scratch, scratch_ints)
        finally:
            free(scratch)
        check(st, "cannot run the fixed-point network")


def simd_names():
    """Names of the SIMD paths, indexed by kf_simd (0 is "auto")."""
    return [kf_simd_name(<kf_simd>i).decode() for i in range(KF_SIMD_COUNT_)]


def simd_built(int path):
    """Whether this build has the path's kernels."""
    return 0 <= path < KF_SIMD_COUNT_ and bool(kf_simd_built(<kf_simd>path))


def simd_supported(int path):
    """Whether this build has the path and this CPU runs it."""
    return 0 <= path < KF_SIMD_COUNT_ and bool(kf_simd_supported(<kf_simd>path))


def simd_active():
    """The active path (KIMI_FANN_SIMD, or the best the CPU runs), as its kf_simd number."""
    cdef kf_simd path
    cdef kf_status st = kf_simd_active(&path)
    if st != KF_OK:
        import os
        reason = "not a known SIMD path" if st == KF_E_ARG else "not supported by this build or CPU"
        raise error_for_status(st, f"KIMI_FANN_SIMD={os.environ.get('KIMI_FANN_SIMD')!r}: {reason}"
                                   + f"; choose from {', '.join(simd_names()[1:])}")
    return int(path)


def simd_peak(int path, int kind, uint64_t rounds):
    """Multiply-accumulates done by rounds of the path's register-only loop of a kind (0 int8,
    1 int16, 2 float; kf_simd_peak): timed by the caller, the path's peak."""
    cdef uint64_t macs = 0
    cdef kf_status st
    if not 0 <= path < KF_SIMD_COUNT_ or not 0 <= kind < KF_PEAK_COUNT_:
        raise error_for_status(KF_E_ARG, f"no SIMD path {path} or peak kind {kind}")
    if not simd_supported(path):
        raise error_for_status(KF_E_UNSUPPORTED,
                               f"SIMD path {simd_names()[path]!r} is not supported by this build or CPU")
    with nogil:
        st = kf_simd_peak(<kf_simd>path, <kf_peak_kind>kind, rounds, &macs)
    check(st, f"cannot run the peak loop of path {path}")
    return int(macs)


cdef object _numpy_empty = None
cdef object _float32 = None
cdef object _uint32 = None


cdef object new_array(Py_ssize_t rows, Py_ssize_t cols, bint matrix, bint uint32=False):
    """A new float32 (or uint32) numpy array of shape (rows, cols), or (cols,) when not matrix.
    numpy is imported on first use only: the module itself runs without numpy. The dtypes are
    kept as objects: numpy.empty parses a dtype string on every call (about 0.1 us)."""
    global _numpy_empty, _float32, _uint32
    if _numpy_empty is None:
        import numpy
        _float32, _uint32, _numpy_empty = numpy.dtype("float32"), numpy.dtype("uint32"), numpy.empty
    dtype = _uint32 if uint32 else _float32
    if matrix:
        return _numpy_empty((rows, cols), dtype)
    return _numpy_empty(cols, dtype)


cdef bint is_float32(Py_buffer *view) noexcept:
    return view.format != NULL and (view.format[0] == b'f' and view.format[1] == 0
                                    or (view.format[0] in (b'<', b'=', b'@') and view.format[1] == b'f'
                                        and view.format[2] == 0))


ctypedef kf_status (*float_runner)(void *model, int path, const float *x, uint64_t n, float *y) noexcept nogil


cdef kf_status run_qnet(void *model, int path, const float *x, uint64_t n, float *y) noexcept nogil:
    cdef kf_qnet *net = <kf_qnet *>model
    cdef uint64_t bytes = kf_qnet_scratch_bytes(net, n)
    cdef void *scratch = malloc(bytes)
    cdef kf_status st
    if scratch == NULL:
        return KF_E_NOMEM
    st = kf_qnet_run(net, <kf_simd>path, x, n, y, scratch, bytes)
    free(scratch)
    return st


cdef kf_status run_net(void *model, int path, const float *x, uint64_t n, float *y) noexcept nogil:
    cdef kf_net *net = <kf_net *>model
    cdef uint64_t count = kf_net_scratch_floats(net)
    cdef float *scratch = <float *>malloc(count * sizeof(float))
    cdef kf_status st
    if scratch == NULL:
        return KF_E_NOMEM
    st = kf_net_run(net, x, n, y, scratch, count)
    free(scratch)
    return st


cdef kf_status run_moe(void *model, int path, const float *x, uint64_t n, float *y) noexcept nogil:
    cdef kf_moe *moe = <kf_moe *>model
    cdef uint64_t bytes = kf_moe_scratch_bytes(moe, n)
    cdef void *scratch = malloc(bytes)
    cdef kf_status st
    if scratch == NULL:
        return KF_E_NOMEM
    st = kf_moe_run(moe, <kf_simd>path, x, n, y, NULL, NULL, scratch, bytes)
    free(scratch)
    return st


cdef object run_buffer(object x, uint32_t n_in, uint32_t n_out, Py_ssize_t max_rows, void *model, int path,
                       float_runner runner):
    """The fast path of run(): a C-contiguous float32 buffer straight into C and a new numpy array
    out, or None when x is anything else."""
    cdef Py_buffer view
    cdef Py_buffer outview
    cdef Py_ssize_t n
    cdef kf_status st
    try:
        PyObject_GetBuffer(x, &view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT)
    except (TypeError, ValueError, BufferError):
        return None  # not a buffer, or not C-contiguous
    try:
        if not is_float32(&view) or view.ndim < 1 or view.ndim > 2 or view.shape[view.ndim - 1] != n_in:
            return None
        n = view.shape[0] if view.ndim == 2 else 1
        if max_rows >= 0 and n > max_rows:
            return None
        out = new_array(n, n_out, view.ndim == 2)
        if n == 0:
            return out
        PyObject_GetBuffer(out, &outview, PyBUF_C_CONTIGUOUS)
        with nogil:
            st = runner(model, path, <const float *>view.buf, n, <float *>outview.buf)
        PyBuffer_Release(&outview)
        check(st, "cannot run the network")
        return out
    finally:
        PyBuffer_Release(&view)


cdef class QNet:
    """Owner of one native fixed-point network (kf_qnet, Q8 or Q16)."""
    cdef kf_qnet *ptr

    def __dealloc__(self):
        kf_qnet_free(self.ptr)
        self.ptr = NULL

    def __cinit__(self, int activation_bits, int weight_bits, const float[::1] input_inv_scale,
                  const int32_t[::1] input_zero, float output_scale, int output_zero, list layers):
        cdef kf_qnet_desc desc
        cdef kf_qlayer_desc *descs
        cdef kf_diag diag
        cdef Py_ssize_t l, n = len(layers)
        cdef const int16_t[:, ::1] w
        cdef const int32_t[::1] bias, mult, knots
        cdef const uint8_t[::1] shift
        cdef kf_status st = KF_OK
        keep = []  # the memoryviews must outlive kf_qnet_create
        if n < 1 or n > 63:
            raise error_for_status(KF_E_ARG, f"a quantized network needs 1 to 63 layers, got {n}")
        if input_inv_scale.shape[0] != input_zero.shape[0]:
            raise ShapeError("input scales and zero points differ in length")
        descs = <kf_qlayer_desc *>malloc(n * sizeof(kf_qlayer_desc))
        if descs == NULL:
            raise MemoryError()
        try:
            for l in range(n):
                weights, bias_, mult_, shift_, t0, seg_shift, knots_, out_lo, out_hi = layers[l]
                w, bias, mult, shift, knots = weights, bias_, mult_, shift_, knots_
                keep.append((w, bias, mult, shift, knots))
                if bias.shape[0] != w.shape[0] or mult.shape[0] != w.shape[0] or shift.shape[0] != w.shape[0]:
                    raise ShapeError(f"layer {l}: per-row arrays differ from the {w.shape[0]} rows")
                descs[l].n_in = <uint32_t>w.shape[1]
                descs[l].n_out = <uint32_t>w.shape[0]
                descs[l].weights = &w[0, 0]
                descs[l].bias = &bias[0]
                descs[l].multiplier = &mult[0]
                descs[l].shift = &shift[0]
                descs[l].t0 = t0
                descs[l].seg_shift = seg_shift
                descs[l].num_knots = <uint32_t>knots.shape[0]
                descs[l].knots = &knots[0]
                descs[l].out_lo = out_lo
                descs[l].out_hi = out_hi
            desc.activation_bits = activation_bits
            desc.weight_bits = weight_bits
            desc.num_layers = <uint32_t>n
            desc.num_input = <uint32_t>input_zero.shape[0]
            desc.input_inv_scale = &input_inv_scale[0]
            desc.input_zero = &input_zero[0]
            desc.output_scale = output_scale
            desc.output_zero = output_zero
            desc.layers = descs
            st = kf_qnet_create(&desc, &self.ptr, &diag)
        finally:
            free(descs)
        if st != KF_OK:
            raise error_for_status(st, f"invalid quantized network: {diag.message.decode(errors='replace')}")

    @property
    def num_input(self):
        return kf_qnet_num_input(self.ptr)

    @property
    def num_output(self):
        return kf_qnet_num_output(self.ptr)

    def run_fast(self, object x, int path=0, Py_ssize_t max_rows=-1):
        """Outputs for a C-contiguous float32 buffer of shape (num_input,) or (n, num_input) with
        n <= max_rows (when max_rows >= 0), as a new numpy array; None for anything else (the
        caller then converts it or splits it across threads)."""
        return run_buffer(x, kf_qnet_num_input(self.ptr), kf_qnet_num_output(self.ptr), max_rows, <void *>self.ptr,
                          path, run_qnet)

    def run(self, const float[:, ::1] X, float[:, ::1] Y, int path=0):
        cdef uint64_t bytes = kf_qnet_scratch_bytes(self.ptr, X.shape[0])
        cdef void *scratch
        cdef kf_status st
        if X.shape[1] != kf_qnet_num_input(self.ptr) or Y.shape[1] != kf_qnet_num_output(self.ptr) \
                or X.shape[0] != Y.shape[0]:
            raise ShapeError(f"expected inputs (n, {kf_qnet_num_input(self.ptr)}) and outputs "
                             f"(n, {kf_qnet_num_output(self.ptr)})")
        if X.shape[0] == 0:
            return
        scratch = malloc(bytes)
        if scratch == NULL:
            raise MemoryError()
        try:
            with nogil:
                st = kf_qnet_run(self.ptr, <kf_simd>path, &X[0, 0], X.shape[0], &Y[0, 0], scratch, bytes)
        finally:
            free(scratch)
        check(st, "cannot run the quantized network")

    def run_raw(self, const int32_t[:, ::1] X, int32_t[:, ::1] Y, int path=0):
        cdef uint64_t bytes = kf_qnet_scratch_bytes(self.ptr, X.shape[0])
        cdef void *scratch
        cdef kf_status st
        if X.shape[1] != kf_qnet_num_input(self.ptr) or Y.shape[1] != kf_qnet_num_output(self.ptr) \
                or X.shape[0] != Y.shape[0]:
            raise ShapeError(f"expected inputs (n, {kf_qnet_num_input(self.ptr)}) and outputs "
                             f"(n, {kf_qnet_num_output(self.ptr)})")
        if X.shape[0] == 0:
            return
        scratch = malloc(bytes)
        if scratch == NULL:
            raise MemoryError()
        try:
            with nogil:
                st = kf_qnet_run_raw(self.ptr, <kf_simd>path, &X[0, 0], X.shape[0], &Y[0, 0], scratch, bytes)
        finally:
            free(scratch)
        check(st, "cannot run the quantized network")


cdef class Router:
    """Owner of one router (kf_router)."""
    cdef kf_router *ptr

    def __dealloc__(self):
        kf_router_free(self.ptr)
        self.ptr = NULL

    def __cinit__(self, int top_k, int scoring, int gate_bits, object gates, object gates_q, object gate_scale,
                  object bias, float scaling):
        cdef kf_router_desc desc
        cdef kf_diag diag
        cdef const float[:, ::1] g
        cdef const int16_t[:, ::1] gq
        cdef const float[::1] gs, b
        cdef kf_status st
        desc.top_k = top_k
        desc.scoring = scoring
        desc.gate_bits = gate_bits
        desc.gates = NULL
        desc.gates_q = NULL
        desc.gate_scale = NULL
        desc.bias = NULL
        desc.scaling = scaling
        if gate_bits == 32:
            g = gates
            desc.n_experts, desc.dim = <uint32_t>g.shape[0], <uint32_t>g.shape[1]
            desc.gates = &g[0, 0]
        else:
            gq, gs = gates_q, gate_scale
            if gs.shape[0] != gq.shape[0]:
                raise ShapeError("one gate scale per expert is needed")
            desc.n_experts, desc.dim = <uint32_t>gq.shape[0], <uint32_t>gq.shape[1]
            desc.gates_q = &gq[0, 0]
            desc.gate_scale = &gs[0]
        if bias is not None:
            b = bias
            if b.shape[0] != desc.n_experts:
                raise ShapeError(f"bias has {b.shape[0]} values for {desc.n_experts} experts")
            desc.bias = &b[0]
        st = kf_router_create(&desc, &self.ptr, &diag)
        if st != KF_OK:
            raise error_for_status(st, f"invalid router: {diag.message.decode(errors='replace')}")

    @property
    def n_experts(self):
        return kf_router_n_experts(self.ptr)

    @property
    def dim(self):
        return kf_router_dim(self.ptr)

    @property
    def top_k(self):
        return kf_router_top_k(self.ptr)

    def set_bias(self, object bias):
        cdef const float[::1] b
        if bias is None:
            check(kf_router_set_bias(self.ptr, NULL), "cannot clear the bias")
            return
        b = bias
        if b.shape[0] != kf_router_n_experts(self.ptr):
            raise ShapeError(f"bias has {b.shape[0]} values for {kf_router_n_experts(self.ptr)} experts")
        check(kf_router_set_bias(self.ptr, &b[0]), "cannot set the bias")

    def route_fast(self, object x, int path=0, Py_ssize_t max_rows=-1):
        """(experts, weights) for a C-contiguous float32 buffer of shape (dim,) or (n, dim) with
        n <= max_rows (when max_rows >= 0), as new numpy arrays; None for anything else."""
        cdef Py_buffer view, ev, wv
        cdef Py_ssize_t n
        cdef uint32_t k = kf_router_top_k(self.ptr)
        cdef uint64_t bytes
        cdef void *scratch
        cdef kf_status st
        try:
            PyObject_GetBuffer(x, &view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT)
        except (TypeError, ValueError, BufferError):
            return None
        try:
            if not is_float32(&view) or view.ndim < 1 or view.ndim > 2 \
                    or view.shape[view.ndim - 1] != kf_router_dim(self.ptr):
                return None
            n = view.shape[0] if view.ndim == 2 else 1
            if max_rows >= 0 and n > max_rows:
                return None
            experts = new_array(n, k, view.ndim == 2, True)
            weights = new_array(n, k, view.ndim == 2)
            if n == 0:
                return experts, weights
            PyObject_GetBuffer(experts, &ev, PyBUF_C_CONTIGUOUS)
            PyObject_GetBuffer(weights, &wv, PyBUF_C_CONTIGUOUS)
            bytes = kf_router_scratch_bytes(self.ptr, n)
            scratch = malloc(bytes)
            if scratch == NULL:
                st = KF_E_NOMEM
            else:
                with nogil:
                    st = kf_router_route(self.ptr, <kf_simd>path, <const float *>view.buf, n, <uint32_t *>ev.buf,
                                         <float *>wv.buf, NULL, scratch, bytes)
                free(scratch)
            PyBuffer_Release(&ev)
            PyBuffer_Release(&wv)
            check(st, "cannot route")
            return experts, weights
        finally:
            PyBuffer_Release(&view)

    def route(self, const float[:, ::1] X, uint32_t[:, ::1] experts, float[:, ::1] weights, object load, int path=0):
        cdef uint64_t[::1] counts
        cdef uint64_t *load_ptr = NULL
        cdef uint64_t bytes = kf_router_scratch_bytes(self.ptr, X.shape[0])
        cdef void *scratch
        cdef kf_status st
        cdef uint32_t k = kf_router_top_k(self.ptr)
        if X.shape[1] != kf_router_dim(self.ptr) or experts.shape[0] != X.shape[0] or weights.shape[0] != X.shape[0] \
                or experts.shape[1] != k or weights.shape[1] != k:
            raise ShapeError(f"expected inputs (n, {kf_router_dim(self.ptr)}) and outputs (n, {k})")
        if load is not None:
            counts = load
            if counts.shape[0] != kf_router_n_experts(self.ptr):
                raise ShapeError("load needs one counter per expert")
            load_ptr = &counts[0]
        if X.shape[0] == 0:
            return
        scratch = malloc(bytes)
        if scratch == NULL:
            raise MemoryError()
        try:
            with nogil:
                st = kf_router_route(self.ptr, <kf_simd>path, &X[0, 0], X.shape[0], &experts[0, 0], &weights[0, 0],
                                     load_ptr, scratch, bytes)
        finally:
            free(scratch)
        check(st, "cannot route")


cdef int expert_of(object model, kf_expert *out) except -1:
    if isinstance(model, Net):
        out.kind = 0
        out.model = <void *>(<Net>model).ptr
    elif isinstance(model, QNet):
        out.kind = 1
        out.model = <void *>(<QNet>model).ptr
    else:
        raise TypeError(f"an expert must be a float or Q8/Q16 network, got {type(model).__name__}")
    return 0


cdef class MoE:
    """Owner of one mixture of experts (kf_moe); keeps its router and experts alive."""
    cdef kf_moe *ptr
    cdef object keep

    def __dealloc__(self):
        kf_moe_free(self.ptr)
        self.ptr = NULL

    def __cinit__(self, Router router not None, list experts, object shared):
        cdef kf_expert *table
        cdef kf_expert shared_expert
        cdef kf_diag diag
        cdef kf_status st
        cdef Py_ssize_t i, n = len(experts)
        self.keep = (router, list(experts), shared)
        table = <kf_expert *>malloc(max(n, 1) * sizeof(kf_expert))
        if table == NULL:
            raise MemoryError()
        try:
            for i in range(n):
                expert_of(experts[i], &table[i])
            if shared is not None:
                expert_of(shared, &shared_expert)
            st = kf_moe_create(router.ptr, table, <uint32_t>n, &shared_expert if shared is not None else NULL,
                               &self.ptr, &diag)
        finally:
            free(table)
        if st != KF_OK:
            raise error_for_status(st, f"invalid mixture: {diag.message.decode(errors='replace')}")

    @property
    def num_output(self):
        return kf_moe_num_output(self.ptr)

    def run_fast(self, object x, int path=0, Py_ssize_t max_rows=-1):
        """As QNet.run_fast, for the mixture (outputs only)."""
        return run_buffer(x, kf_router_dim((<Router>self.keep[0]).ptr), kf_moe_num_output(self.ptr), max_rows,
                          <void *>self.ptr, path, run_moe)

    def run(self, const float[:, ::1] X, float[:, ::1] Y, object experts, object weights, int path=0):
        cdef uint32_t[:, ::1] ex
        cdef float[:, ::1] w
        cdef uint32_t *ex_ptr = NULL
        cdef float *w_ptr = NULL
        cdef uint64_t bytes = kf_moe_scratch_bytes(self.ptr, X.shape[0])
        cdef void *scratch
        cdef kf_status st
        router = self.keep[0]
        if X.shape[1] != router.dim or Y.shape[1] != kf_moe_num_output(self.ptr) or X.shape[0] != Y.shape[0]:
            raise ShapeError(f"expected inputs (n, {router.dim}) and outputs (n, {kf_moe_num_output(self.ptr)})")
        if X.shape[0] == 0:
            return
        if experts is not None:
            ex, w = experts, weights
            ex_ptr, w_ptr = &ex[0, 0], &w[0, 0]
        scratch = malloc(bytes)
        if scratch == NULL:
            raise MemoryError()
        try:
            with nogil:
                st = kf_moe_run(self.ptr, <kf_simd>path, &X[0, 0], X.shape[0], &Y[0, 0], ex_ptr, w_ptr, scratch, bytes)
        finally:
            free(scratch)
        check(st, "cannot run the mixture")


cdef class Trainer:
    """Training state (slopes, steps, random stream) for networks of one shape."""

    def __cinit__(self, Net net not None, uint64_t seed):
        check(kf_trainer_create(net.ptr, seed, &self.ptr), "cannot create a trainer")
        self.total_neurons = net.ptr.total_neurons
        self.total_connections = net.ptr.total_connections

    def __dealloc__(self):
        kf_trainer_free(self.ptr)
        self.ptr = NULL

    def reset(self):
        kf_trainer_reset(self.ptr)

    def epoch(self, Net net not None, const float[:, ::1] X, const float[:, ::1] Y):
        cdef kf_epoch_stats stats
        cdef kf_data d
        cdef kf_status st
        check_pairs(X, Y)
        d = data_view(X, Y)
        with nogil:
            st = kf_train_epoch(net.ptr, self.ptr, &d, &stats)
        check(st, "cannot train")
        return stats.mse, stats.bit_fail

    def sample(self, Net net not None, const float[::1] x, const float[::1] y):
        cdef kf_status st
        if x.shape[0] != net.ptr.num_input or y.shape[0] != net.ptr.num_output:
            raise ShapeError(f"expected {net.ptr.num_input} inputs and {net.ptr.num_output} outputs, "
                             f"got {x.shape[0]} and {y.shape[0]}")
        with nogil:
            st = kf_train_sample(net.ptr, self.ptr, &x[0], &y[0])
        check(st, "cannot train")


def parse_data(const unsigned char[::1] text, str source):
    """Parse FANN .data text; returns (num_data, num_input, num_output, inputs, outputs), the
    arrays as bytearrays of float32 values."""
    cdef kf_data *d = NULL
    cdef kf_diag diag
    cdef kf_status st
    cdef const char *p = <const char *>&text[0] if text.shape[0] > 0 else NULL
    cdef size_t n = text.shape[0]
    cdef Py_ssize_t n_in, n_out
    with nogil:
        st = kf_data_parse(p, n, &d, &diag)
    check_diag(st, &diag, source)
    try:
        n_in = <Py_ssize_t>d.num_data * d.num_input * sizeof(float)
        n_out = <Py_ssize_t>d.num_data * d.num_output * sizeof(float)
        inputs = bytearray((<char *>d.input)[:n_in])
        outputs = bytearray((<char *>d.output)[:n_out])
        return d.num_data, d.num_input, d.num_output, inputs, outputs
    finally:
        kf_free(d)


def format_data(const float[:, ::1] X, const float[:, ::1] Y):
    """FANN .data text for inputs X and outputs Y."""
    cdef char *text = NULL
    cdef size_t n = 0
    cdef kf_data d
    cdef kf_status st
    check_pairs(X, Y)
    d = data_view(X, Y)
    with nogil:
        st = kf_data_format(&d, &text, &n)
    check(st, "cannot write the data")
    return take_text(text, n)


def shuffle_data(float[:, ::1] X, float[:, ::1] Y, uint64_t seed):
    """Permute the rows of X and Y in place, together."""
    cdef kf_data d
    check_pairs(X, Y)
    d = data_view(X, Y)
    with nogil:
        kf_data_shuffle(&d, seed)


def scale_data(float[:, ::1] X, float lo, float hi):
    """Min-max scale every value of X to [lo, hi] in place (one range for the whole array)."""
    cdef kf_data d
    cdef float[:, ::1] none = X[:0, :0]
    d = data_view(X, none)
    d.num_output = 0
    check(kf_data_scale(&d, 0, lo, hi), "cannot scale the data")
