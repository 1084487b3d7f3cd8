# Declarations of the C core's public header (csrc/include/kfann.h) for the binding.
from libc.stdint cimport uint8_t, int16_t, uint32_t, uint64_t, int32_t, int64_t


cdef extern from "kfann.h" nogil:
    ctypedef enum kf_status:
        KF_OK
        KF_E_NOMEM
        KF_E_ARG
        KF_E_SHAPE
        KF_E_FORMAT
        KF_E_NUMERIC
        KF_E_UNSUPPORTED
        KF_E_LIMIT
        KF_STATUS_COUNT_

    const char *kf_status_str(kf_status status)

    enum:
        KF_MAX_LAYERS
        KF_MAX_NEURONS
        KF_MAX_CONNECTIONS
        KF_MAX_CASCADE_LIST

    ctypedef struct kf_constant:
        const char *name
        int64_t value

    const kf_constant *kf_constants(uint32_t *count)

    ctypedef struct kf_diag:
        uint32_t line
        char message[224]

    void kf_free(void *ptr)

    ctypedef enum kf_activation:
        KF_ACTIVATION_COUNT_

    const char *kf_activation_name(kf_activation a)
    float kf_activation_apply(kf_activation a, float x)

    ctypedef enum kf_param:
        KF_PARAM_COUNT_

    const char *kf_param_name(kf_param p)

    ctypedef enum kf_net_type:
        KF_NET_LAYER
        KF_NET_SHORTCUT

    ctypedef enum kf_scale_op:
        KF_SCALE_INPUT
        KF_SCALE_OUTPUT
        KF_DESCALE_INPUT
        KF_DESCALE_OUTPUT

    ctypedef struct kf_params:
        pass

    void kf_params_default(kf_params *params)

    ctypedef struct kf_net:
        pass

    ctypedef struct kf_data:
        uint32_t num_data
        uint32_t num_input
        uint32_t num_output
        float *input
        float *output

    ctypedef struct kf_trainer:
        pass

    ctypedef struct kf_epoch_stats:
        float mse
        uint32_t bit_fail

    ctypedef struct kf_trainer_state:
        uint32_t total_connections
        uint32_t cleared
        uint32_t sarprop_epoch
        uint64_t seed
        uint64_t rng_state
        uint64_t rng_inc
        float mse_sum
        uint32_t num_mse
        uint32_t bit_fail
        float *prev_steps
        float *prev_slopes
        float *prev_deltas

    kf_status kf_net_create(const uint32_t *layer_sizes, uint32_t num_layers, kf_net_type type,
                            float connection_rate, uint64_t seed, kf_net **out)
    kf_status kf_net_copy(const kf_net *net, kf_net **out)
    kf_status kf_net_assemble(uint32_t num_layers, kf_net_type type, float connection_rate,
                              const uint32_t *layer_start, const uint32_t *con_start, const uint32_t *con_src,
                              const float *weights, const uint8_t *activation, const float *steepness,
                              const kf_params *params, const float *scaling, kf_net **out, kf_diag *diag)
    void kf_net_free(kf_net *net)
    kf_status kf_structure_full(uint32_t num_layers, kf_net_type type, const uint32_t *layer_start,
                                uint32_t *con_start, uint32_t *con_src)
    uint32_t kf_net_num_layers(const kf_net *net)
    uint32_t kf_net_num_input(const kf_net *net)
    uint32_t kf_net_num_output(const kf_net *net)
    uint32_t kf_net_total_neurons(const kf_net *net)
    uint32_t kf_net_total_connections(const kf_net *net)
    kf_net_type kf_net_network_type(const kf_net *net)
    float kf_net_connection_rate(const kf_net *net)
    uint32_t kf_net_layer_size(const kf_net *net, uint32_t layer)
    kf_status kf_net_get_structure(const kf_net *net, uint32_t *layer_start, uint32_t *con_start,
                                   uint32_t *con_src, uint8_t *activation, float *steepness)
    kf_status kf_net_get_weights(const kf_net *net, float *weights, uint64_t count)
    kf_status kf_net_get_cascade(const kf_net *net, uint32_t *functions, uint32_t *num_functions,
                                 float *steepnesses, uint32_t *num_steepnesses)
    kf_status kf_net_set_cascade(kf_net *net, const uint32_t *functions, uint32_t num_functions,
                                 const float *steepnesses, uint32_t num_steepnesses)
    kf_status kf_net_set_activation(kf_net *net, uint32_t layer, int32_t neuron, kf_activation a)
    kf_status kf_net_set_steepness(kf_net *net, uint32_t layer, int32_t neuron, float steepness)
    kf_status kf_net_get_activation(const kf_net *net, uint32_t layer, uint32_t neuron,
                                    kf_activation *a, float *steepness)
    kf_status kf_net_get_param(const kf_net *net, kf_param p, double *value)
    kf_status kf_net_set_param(kf_net *net, kf_param p, double value)
    kf_status kf_net_randomize_weights(kf_net *net, float lo, float hi, uint64_t seed)
    kf_status kf_net_init_weights(kf_net *net, const kf_data *data, uint64_t seed)
    kf_status kf_net_set_weights(kf_net *net, const float *weights, uint64_t count)
    uint64_t kf_net_scratch_floats(const kf_net *net)
    kf_status kf_net_run(const kf_net *net, const float *inp, uint64_t n, float *out,
                         float *scratch, uint64_t scratch_floats)

    kf_status kf_net_set_scaling(kf_net *net, const kf_data *data, int which, float new_min_in,
                                 float new_max_in, float new_min_out, float new_max_out)
    void kf_net_clear_scaling(kf_net *net)
    int kf_net_has_scaling(const kf_net *net)
    kf_status kf_net_get_scaling_values(const kf_net *net, float *values, uint64_t count)
    kf_status kf_net_set_scaling_values(kf_net *net, const float *values, uint64_t count)
    kf_status kf_net_scale(const kf_net *net, kf_scale_op op, float *values, uint64_t n)

    kf_status kf_data_parse(const char *text, size_t len, kf_data **out, kf_diag *diag)
    kf_status kf_data_format(const kf_data *data, char **text, size_t *len)
    void kf_data_shuffle(kf_data *data, uint64_t seed)
    kf_status kf_data_scale(kf_data *data, int which, float lo, float hi)

    kf_status kf_trainer_create(const kf_net *net, uint64_t seed, kf_trainer **out)
    void kf_trainer_reset(kf_trainer *trainer)
    void kf_trainer_free(kf_trainer *trainer)
    kf_status kf_trainer_get_state(const kf_trainer *trainer, kf_trainer_state *state)
    kf_status kf_trainer_set_state(kf_trainer *trainer, const kf_trainer_state *state)
    kf_status kf_train_epoch(kf_net *net, kf_trainer *trainer, const kf_data *data,
                             kf_epoch_stats *stats)
    kf_status kf_train_sample(kf_net *net, kf_trainer *trainer, const float *inp,
                              const float *desired)
    kf_status kf_trainer_get_mse(const kf_trainer *trainer, kf_epoch_stats *stats)
    void kf_trainer_reset_mse(kf_trainer *trainer)
    kf_status kf_net_test(const kf_net *net, const kf_data *data, float *scratch,
                          uint64_t scratch_floats, kf_epoch_stats *stats)

    kf_status kf_net_parse_fann(const char *text, size_t len, kf_net **out, kf_diag *diag)
    kf_status kf_net_format_fann(const kf_net *net, char **text, size_t *len)

    ctypedef struct kf_fixnet:
        pass

    void kf_fixnet_free(kf_fixnet *net)
    uint32_t kf_fixnet_num_layers(const kf_fixnet *net)
    uint32_t kf_fixnet_num_input(const kf_fixnet *net)
    uint32_t kf_fixnet_num_output(const kf_fixnet *net)
    uint32_t kf_fixnet_total_neurons(const kf_fixnet *net)
    uint32_t kf_fixnet_total_connections(const kf_fixnet *net)
    kf_net_type kf_fixnet_network_type(const kf_fixnet *net)
    uint32_t kf_fixnet_decimal_point(const kf_fixnet *net)
    int32_t kf_fixnet_multiplier(const kf_fixnet *net)
    kf_status kf_fixnet_get_structure(const kf_fixnet *net, uint32_t *layer_start, uint32_t *con_start,
                                      uint32_t *con_src, uint8_t *activation, int32_t *steepness)
    kf_status kf_fixnet_get_weights(const kf_fixnet *net, int32_t *weights, uint64_t count)
    int kf_fixnet_activation_supported(kf_activation a)
    kf_status kf_fixnet_check(const kf_fixnet *net, kf_diag *diag)
    kf_status kf_fixnet_parse_fann(const char *text, size_t len, kf_fixnet **out, kf_diag *diag)
    kf_status kf_fixnet_format_fann(const kf_fixnet *net, char **text, size_t *len)
    kf_status kf_net_to_fixnet(const kf_net *net, kf_fixnet **out)
    uint64_t kf_fixnet_scratch_ints(const kf_fixnet *net)
    kf_status kf_fixnet_run(const kf_fixnet *net, const int32_t *inp, uint64_t n, int32_t *out,
                            int32_t *scratch, uint64_t scratch_ints)


cdef extern from "kfann.h" nogil:
    ctypedef enum kf_simd:
        KF_SIMD_AUTO
        KF_SIMD_COUNT_

    const char *kf_simd_name(kf_simd path)
    int kf_simd_built(kf_simd path)
    int kf_simd_supported(kf_simd path)
    kf_status kf_simd_active(kf_simd *active)

    ctypedef enum kf_peak_kind:
        KF_PEAK_COUNT_

    kf_status kf_simd_peak(kf_simd path, kf_peak_kind kind, uint64_t rounds, uint64_t *macs)

    ctypedef struct kf_qlayer_desc:
        uint32_t n_in
        uint32_t n_out
        const int16_t *weights
        const int32_t *bias
        const int32_t *multiplier
        const uint8_t *shift
        int32_t t0
        uint32_t seg_shift
        uint32_t num_knots
        const int32_t *knots
        int32_t out_lo
        int32_t out_hi

    ctypedef struct kf_qnet_desc:
        uint32_t activation_bits
        uint32_t weight_bits
        uint32_t num_layers
        uint32_t num_input
        const float *input_inv_scale
        const int32_t *input_zero
        float output_scale
        int32_t output_zero
        const kf_qlayer_desc *layers
        uint32_t shortcut

    ctypedef struct kf_qnet:
        pass

    kf_status kf_qnet_create(const kf_qnet_desc *desc, kf_qnet **out, kf_diag *diag)
    void kf_qnet_free(kf_qnet *net)
    uint32_t kf_qnet_num_input(const kf_qnet *net)
    uint32_t kf_qnet_num_output(const kf_qnet *net)
    uint64_t kf_qnet_scratch_bytes(const kf_qnet *net, uint64_t n)
    kf_status kf_qnet_run_raw(const kf_qnet *net, kf_simd path, const int32_t *inp, uint64_t n, int32_t *out,
                              void *scratch, uint64_t scratch_bytes)
    kf_status kf_qnet_run(const kf_qnet *net, kf_simd path, const float *inp, uint64_t n, float *out,
                          void *scratch, uint64_t scratch_bytes)


cdef extern from "kfann.h" nogil:
    ctypedef struct kf_router_desc:
        uint32_t n_experts
        uint32_t dim
        uint32_t top_k
        uint32_t scoring
        uint32_t gate_bits
        const float *gates
        const int16_t *gates_q
        const float *gate_scale
        const float *bias
        float scaling

    ctypedef struct kf_router:
        pass

    kf_status kf_router_create(const kf_router_desc *desc, kf_router **out, kf_diag *diag)
    void kf_router_free(kf_router *router)
    kf_status kf_router_set_bias(kf_router *router, const float *bias)
    uint32_t kf_router_n_experts(const kf_router *router)
    uint32_t kf_router_dim(const kf_router *router)
    uint32_t kf_router_top_k(const kf_router *router)
    uint64_t kf_router_scratch_bytes(const kf_router *router, uint64_t n)
    kf_status kf_router_route(const kf_router *router, kf_simd path, const float *x, uint64_t n,
                              uint32_t *experts, float *weights, uint64_t *load, void *scratch,
                              uint64_t scratch_bytes)


cdef extern from "kfann.h" nogil:
    ctypedef enum kf_expert_kind:
        KF_EXPERT_FLOAT
        KF_EXPERT_QUANTIZED

    ctypedef struct kf_expert:
        uint32_t kind
        const void *model

    ctypedef struct kf_moe:
        pass

    kf_status kf_moe_create(const kf_router *router, const kf_expert *experts, uint32_t n_experts,
                            const kf_expert *shared, kf_moe **out, kf_diag *diag)
    void kf_moe_free(kf_moe *moe)
    uint32_t kf_moe_num_output(const kf_moe *moe)
    uint64_t kf_moe_scratch_bytes(const kf_moe *moe, uint64_t n)
    kf_status kf_moe_run(const kf_moe *moe, kf_simd path, const float *x, uint64_t n, float *y,
                         uint32_t *experts, float *weights, void *scratch, uint64_t scratch_bytes)


cdef class Guard:
    cdef int readers          # runs in progress (the GIL released)
    cdef int depth            # nested holds of the writer, 0 when none
    cdef int writers_waiting  # writers blocked: new runs wait behind them
    cdef int sleepers         # threads waiting on cond
    cdef unsigned long owner  # the writer's thread
    cdef object cond          # a threading.Condition, made on first wait
    cdef dict holders         # thread -> nested reading() holds, made on first use
    cdef bint can(self, bint write) noexcept
    cdef void take(self, bint write) noexcept
    cdef int acquire(self, bint write) except -1
    cdef int release(self, bint write) except -1
    cdef int wait_for(self, bint write, bint take) except -1
    cdef int readable(self) except -1


cdef class Net:
    cdef kf_net *ptr
    cdef Guard guard
    cdef tuple guards  # (guard,): what a run takes

    @staticmethod
    cdef Net wrap(kf_net *ptr)


cdef class FixNet:
    cdef kf_fixnet *ptr

    @staticmethod
    cdef FixNet wrap(kf_fixnet *ptr)
    cdef int runnable(self, Py_ssize_t rows_x, Py_ssize_t cols_x, Py_ssize_t rows_y, Py_ssize_t cols_y) except -1


cdef class Trainer:
    cdef kf_trainer *ptr
    cdef Guard guard


cdef extern from "kfann.h" nogil:
    enum:
        KF_RAND_MAX

    ctypedef struct kf_random:
        uint32_t kind

    void kf_random_glibc(kf_random *r, uint32_t seed)
    void kf_random_pcg(kf_random *r, uint64_t seed)
    uint32_t kf_random_next(kf_random *r)
    float kf_random_uniform(kf_random *r, float lo, float hi)

    ctypedef struct kf_cascade_report:
        uint32_t neurons
        uint32_t epochs
        float mse
        uint32_t bit_fail
        uint32_t activation
        float steepness

    ctypedef int (*kf_cascade_fn)(const kf_cascade_report *report, void *ctx) noexcept

    ctypedef struct kf_cascade_options:
        uint32_t max_neurons
        uint32_t neurons_between_reports
        float desired_error
        kf_random *random
        kf_cascade_fn callback
        void *ctx

    kf_status kf_cascade_train(const kf_net *net, const kf_data *data, const kf_cascade_options *options,
                               kf_net **out, kf_cascade_report *final, kf_diag *diag)


cdef class Random:
    cdef kf_random state


cdef extern from "kfann.h" nogil:
    ctypedef struct kf_pool:
        pass
    ctypedef kf_status (*kf_task_fn)(void *ctx, uint32_t task) noexcept nogil
    kf_status kf_pool_create(kf_pool **out)
    void kf_pool_free(kf_pool *pool)
    kf_status kf_pool_run(kf_pool *pool, uint32_t n, uint32_t helpers, kf_task_fn task, void *ctx,
                          kf_status *statuses)
    int kf_pool_serve(kf_pool *pool, uint64_t idle_ns)
    void kf_pool_unpark(kf_pool *pool)
    uint32_t kf_pool_parked(kf_pool *pool)
    void kf_pool_stop(kf_pool *pool)
