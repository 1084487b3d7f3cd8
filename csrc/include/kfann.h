/*
 * kfann.h - the public interface of the kimi-fann C core.
 *
 * Tiny feed-forward networks with FANN 2.2 semantics (layers with a bias neuron, steepness,
 * the 18 FANN activation functions plus relu and leaky relu, sparse and shortcut connections),
 * trained in C with FANN's algorithms, read and written in FANN's text formats.
 *
 * Conventions
 * - Every fallible function returns a kf_status: KF_OK (0) or a negative error code.
 *   The library never prints, never aborts and keeps no global mutable state.
 * - Every model (kf_net, kf_fixnet, kf_qnet, kf_router, kf_moe) is opaque and one contiguous
 *   allocation; accessors below read what callers need. Running a model only reads it: the
 *   caller passes a scratch buffer (kf_*_scratch_*), so one model serves many threads.
 * - Every function that takes a kf_diag clears it on entry: after a failure it holds the
 *   reason, or an empty message when the status code says all there is (KF_E_NOMEM).
 * - Arrays are row-major float32; sizes are explicit; every input is bounds-checked.
 * - Parsers take a memory buffer (not a path) and report the line of the first problem in a
 *   kf_diag; writers return a malloc'd text that the caller releases with kf_free().
 */
#ifndef KFANN_H
#define KFANN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KF_VERSION_MAJOR 0
#define KF_VERSION_MINOR 1
#define KF_VERSION_PATCH 0

/* ---------------------------------------------------------------------------------------------
 * Status codes and diagnostics
 * ------------------------------------------------------------------------------------------- */

typedef enum kf_status {
    KF_OK = 0,
    KF_E_NOMEM = -1,       /* an allocation failed */
    KF_E_ARG = -2,         /* an argument or parameter is out of its range (NULL, bad enum, bad index) */
    KF_E_SHAPE = -3,       /* input arrays do not fit the model: sizes that do not match it or each
                              other, or integer inputs outside the model's input range */
    KF_E_FORMAT = -4,      /* a file or text is malformed; see kf_diag */
    KF_E_NUMERIC = -5,     /* NaN or infinity where a finite number is required */
    KF_E_UNSUPPORTED = -6, /* valid request this network cannot serve (e.g. training threshold) */
    KF_E_LIMIT = -7,       /* a size beyond the library's caps (KF_MAX_*) */
    KF_STATUS_COUNT_ = 8   /* number of codes: codes are 0, -1, ..., -(KF_STATUS_COUNT_ - 1) */
} kf_status;

/* A short constant English description of a status code ("unknown status" if out of range). */
const char *kf_status_str(kf_status status);

/* Where and why a parser or constructor stopped. line is 1-based (0 when not applicable);
 * message is empty when the status code is the whole reason. */
typedef struct kf_diag {
    uint32_t line;
    char message[224];
} kf_diag;

/* Release memory returned by the library (texts from the writers). NULL is allowed. */
void kf_free(void *ptr);

/* ---------------------------------------------------------------------------------------------
 * Limits (checked with 64-bit arithmetic before any allocation)
 * ------------------------------------------------------------------------------------------- */

#define KF_MAX_LAYERS 1024u   /* cascade training adds a layer per hidden neuron */
#define KF_MAX_NEURONS (1u << 24)     /* total neurons in one network, bias neurons included */
#define KF_MAX_CONNECTIONS (1u << 28) /* total connections (weights) in one network */
#define KF_MAX_CASCADE_LIST 64u       /* entries of the cascade activation/steepness lists */
#define KF_MAX_DATA_VALUES (1ull << 32) /* values (pairs x (inputs + outputs)) in a data set */

/* The library's constants by name, for bindings that read them instead of retyping numbers:
 * every status code, the limits (KF_MAX_*), the counts of the enums (KF_*_COUNT_), the
 * fixed-point table constants and the router's and mixture's enumerations. Names are spelled
 * as in this header. */
typedef struct kf_constant {
    const char *name;
    int64_t value;
} kf_constant;

/* The table of constants; *count receives its length. */
const kf_constant *kf_constants(uint32_t *count);

/* ---------------------------------------------------------------------------------------------
 * Activation functions: FANN 2.2's enum values (0..17, as stored in .net files), then ours.
 * Each is applied to steepness * sum.
 * ------------------------------------------------------------------------------------------- */

typedef enum kf_activation {
    KF_LINEAR = 0,
    KF_THRESHOLD = 1,
    KF_THRESHOLD_SYMMETRIC = 2,
    KF_SIGMOID = 3,
    KF_SIGMOID_STEPWISE = 4,
    KF_SIGMOID_SYMMETRIC = 5,
    KF_SIGMOID_SYMMETRIC_STEPWISE = 6,
    KF_GAUSSIAN = 7,
    KF_GAUSSIAN_SYMMETRIC = 8,
    KF_GAUSSIAN_STEPWISE = 9, /* as in FANN 2.2: always 0 */
    KF_ELLIOT = 10,
    KF_ELLIOT_SYMMETRIC = 11,
    KF_LINEAR_PIECE = 12,
    KF_LINEAR_PIECE_SYMMETRIC = 13,
    KF_SIN_SYMMETRIC = 14,
    KF_COS_SYMMETRIC = 15,
    KF_SIN = 16,
    KF_COS = 17,
    KF_RELU = 18,       /* max(0, x) */
    KF_LEAKY_RELU = 19, /* x > 0 ? x : 0.01 x */
    KF_ACTIVATION_COUNT_ = 20
} kf_activation;

/* Lower-case name ("sigmoid_symmetric"), or NULL if out of range. */
const char *kf_activation_name(kf_activation a);
/* Parse a name (as kf_activation_name gives); KF_E_ARG if unknown. */
kf_status kf_activation_from_name(const char *name, kf_activation *out);
/* f(x) for one value, exactly as a neuron computes it (x already multiplied by steepness). */
float kf_activation_apply(kf_activation a, float x);
/* 1 when the output range is symmetric around 0 (FANN halves the error of these). */
int kf_activation_is_symmetric(kf_activation a);

/* ---------------------------------------------------------------------------------------------
 * Training parameters: the header fields of a FANN .net file, plus SARPROP's.
 * Read and written by name through kf_net_get_param / kf_net_set_param (which validate).
 * ------------------------------------------------------------------------------------------- */

typedef enum kf_train_algorithm {
    KF_TRAIN_INCREMENTAL = 0,
    KF_TRAIN_BATCH = 1,
    KF_TRAIN_RPROP = 2, /* iRPROP- */
    KF_TRAIN_QUICKPROP = 3,
    KF_TRAIN_SARPROP = 4,
    KF_TRAIN_COUNT_ = 5
} kf_train_algorithm;

typedef enum kf_error_function { KF_ERRORFUNC_LINEAR = 0, KF_ERRORFUNC_TANH = 1 } kf_error_function;
typedef enum kf_stop_function { KF_STOPFUNC_MSE = 0, KF_STOPFUNC_BIT = 1 } kf_stop_function;
typedef enum kf_net_type { KF_NET_LAYER = 0, KF_NET_SHORTCUT = 1 } kf_net_type;

typedef enum kf_param {
    KF_PARAM_LEARNING_RATE,
    KF_PARAM_LEARNING_MOMENTUM,
    KF_PARAM_TRAINING_ALGORITHM,
    KF_PARAM_TRAIN_ERROR_FUNCTION,
    KF_PARAM_TRAIN_STOP_FUNCTION,
    KF_PARAM_BIT_FAIL_LIMIT,
    KF_PARAM_QUICKPROP_DECAY,
    KF_PARAM_QUICKPROP_MU,
    KF_PARAM_RPROP_INCREASE_FACTOR,
    KF_PARAM_RPROP_DECREASE_FACTOR,
    KF_PARAM_RPROP_DELTA_MIN,
    KF_PARAM_RPROP_DELTA_MAX,
    KF_PARAM_RPROP_DELTA_ZERO,
    KF_PARAM_SARPROP_WEIGHT_DECAY_SHIFT,
    KF_PARAM_SARPROP_STEP_ERROR_THRESHOLD_FACTOR,
    KF_PARAM_SARPROP_STEP_ERROR_SHIFT,
    KF_PARAM_SARPROP_TEMPERATURE,
    KF_PARAM_CASCADE_OUTPUT_CHANGE_FRACTION,
    KF_PARAM_CASCADE_OUTPUT_STAGNATION_EPOCHS,
    KF_PARAM_CASCADE_CANDIDATE_CHANGE_FRACTION,
    KF_PARAM_CASCADE_CANDIDATE_STAGNATION_EPOCHS,
    KF_PARAM_CASCADE_MAX_OUT_EPOCHS,
    KF_PARAM_CASCADE_MIN_OUT_EPOCHS,
    KF_PARAM_CASCADE_MAX_CAND_EPOCHS,
    KF_PARAM_CASCADE_MIN_CAND_EPOCHS,
    KF_PARAM_CASCADE_NUM_CANDIDATE_GROUPS,
    KF_PARAM_CASCADE_CANDIDATE_LIMIT,
    KF_PARAM_CASCADE_WEIGHT_MULTIPLIER,
    KF_PARAM_COUNT_
} kf_param;

typedef struct kf_params {
    float learning_rate;      /* 0.7 */
    float learning_momentum;  /* 0 */
    uint32_t training_algorithm;   /* kf_train_algorithm, KF_TRAIN_RPROP */
    uint32_t train_error_function; /* kf_error_function, KF_ERRORFUNC_TANH */
    uint32_t train_stop_function;  /* kf_stop_function, KF_STOPFUNC_MSE */
    float bit_fail_limit;     /* 0.35: |desired - output| at or above this is a failed bit */
    float quickprop_decay;    /* -0.0001 */
    float quickprop_mu;       /* 1.75 */
    float rprop_increase_factor; /* 1.2 */
    float rprop_decrease_factor; /* 0.5 */
    float rprop_delta_min;    /* 0 */
    float rprop_delta_max;    /* 50 */
    float rprop_delta_zero;   /* 0.1 */
    float sarprop_weight_decay_shift;          /* -6.644 */
    float sarprop_step_error_threshold_factor; /* 0.1 */
    float sarprop_step_error_shift;            /* 1.385 */
    float sarprop_temperature;                 /* 0.015 */
    /* Cascade-correlation settings: kept so that .net files round-trip unchanged. */
    float cascade_output_change_fraction;      /* 0.01 */
    uint32_t cascade_output_stagnation_epochs; /* 12 */
    float cascade_candidate_change_fraction;   /* 0.01 */
    uint32_t cascade_candidate_stagnation_epochs; /* 12 */
    uint32_t cascade_max_out_epochs;  /* 150 */
    uint32_t cascade_min_out_epochs;  /* 50 */
    uint32_t cascade_max_cand_epochs; /* 150 */
    uint32_t cascade_min_cand_epochs; /* 50 */
    uint32_t cascade_num_candidate_groups; /* 2 */
    float cascade_candidate_limit;    /* 1000 */
    float cascade_weight_multiplier;  /* 0.4 */
    uint32_t cascade_activation_functions_count;   /* 10 */
    uint32_t cascade_activation_functions[KF_MAX_CASCADE_LIST];
    uint32_t cascade_activation_steepnesses_count; /* 4 */
    float cascade_activation_steepnesses[KF_MAX_CASCADE_LIST];
} kf_params;

/* FANN 2.2's defaults. */
void kf_params_default(kf_params *params);
/* Snake-case name of a parameter ("learning_rate"), or NULL if out of range. */
const char *kf_param_name(kf_param p);

/* ---------------------------------------------------------------------------------------------
 * Networks
 *
 * Neurons are numbered as in a FANN .net file: the input layer's neurons, then each layer's,
 * every layer ending with a bias neuron (in shortcut networks only the input layer has one).
 * Neuron j's incoming connections are con_start[j] .. con_start[j+1]-1; connection k reads
 * neuron con_src[k] with weight weights[k]. A neuron without connections outputs 1 (a bias).
 * ------------------------------------------------------------------------------------------- */

typedef struct kf_net kf_net; /* opaque: built by kf_net_create, _assemble, _parse_fann, _copy */

/* A network with the given layer sizes (bias neurons not counted), FANN's default activation
 * (sigmoid_stepwise, steepness 0.5) and weights uniform in [-0.1, 0.1] drawn from seed.
 * connection_rate < 1 makes a sparse network (as fann_create_sparse); KF_NET_SHORTCUT connects
 * every neuron to all neurons of all earlier layers (connection_rate must then be 1). */
kf_status kf_net_create(const uint32_t *layer_sizes, uint32_t num_layers, kf_net_type type,
                        float connection_rate, uint64_t seed, kf_net **out);
/* A deep copy. */
kf_status kf_net_copy(const kf_net *net, kf_net **out);
void kf_net_free(kf_net *net);

/* A network from its arrays (as kf_net_get_structure gives them; scaling NULL for none),
 * checked as a parsed file is: KF_E_FORMAT with a reason for any inconsistency. con_start and
 * con_src both NULL stand for a fully connected network (kf_structure_full). */
kf_status kf_net_assemble(uint32_t num_layers, kf_net_type type, float connection_rate, const uint32_t *layer_start,
                          const uint32_t *con_start, const uint32_t *con_src, const float *weights,
                          const uint8_t *activation, const float *steepness, const kf_params *params,
                          const float *scaling, kf_net **out, kf_diag *diag);

/* The connections of a fully connected network with the given layer starts: in a layered
 * network every neuron but the bias neurons reads the whole previous layer, its bias neuron
 * included; in a shortcut network, every earlier neuron. con_start receives total_neurons + 1
 * values (layer_start[num_layers] + 1); con_src, unless NULL, con_start[total_neurons] values.
 * KF_E_ARG for layer starts that do not describe a network, KF_E_LIMIT beyond the caps. */
kf_status kf_structure_full(uint32_t num_layers, kf_net_type type, const uint32_t *layer_start, uint32_t *con_start,
                            uint32_t *con_src);

/* Sizes and kind (0 for a NULL network). */
uint32_t kf_net_num_layers(const kf_net *net);
uint32_t kf_net_num_input(const kf_net *net);
uint32_t kf_net_num_output(const kf_net *net);
/* Every neuron the .net file lists, bias neurons included: in a layered network the output
 * layer's unused one too, which fann_get_total_neurons does not count (it gives one less). */
uint32_t kf_net_total_neurons(const kf_net *net);
uint32_t kf_net_total_connections(const kf_net *net); /* weights */
kf_net_type kf_net_network_type(const kf_net *net);
float kf_net_connection_rate(const kf_net *net);
/* Neurons of layer l without its bias neuron. */
uint32_t kf_net_layer_size(const kf_net *net, uint32_t layer);
/* Copy the structure out: layer_start [num_layers + 1], con_start [total_neurons + 1], con_src
 * [total_connections], activation and steepness [total_neurons]. A NULL array is skipped. */
kf_status kf_net_get_structure(const kf_net *net, uint32_t *layer_start, uint32_t *con_start, uint32_t *con_src,
                               uint8_t *activation, float *steepness);
/* Copy the weights out (count must be total_connections). */
kf_status kf_net_get_weights(const kf_net *net, float *weights, uint64_t count);

/* Activation and steepness of one neuron (neuron >= 0) or of every neuron of a layer, its bias
 * neuron included as FANN does (neuron < 0). layer is 1 .. num_layers-1. */
kf_status kf_net_set_activation(kf_net *net, uint32_t layer, int32_t neuron, kf_activation a);
kf_status kf_net_set_steepness(kf_net *net, uint32_t layer, int32_t neuron, float steepness);
kf_status kf_net_get_activation(const kf_net *net, uint32_t layer, uint32_t neuron,
                                kf_activation *a, float *steepness);

kf_status kf_net_get_param(const kf_net *net, kf_param p, double *value);
kf_status kf_net_set_param(kf_net *net, kf_param p, double value);

/* The cascade-correlation activation functions and steepnesses, kept for .net files. The
 * getter writes up to KF_MAX_CASCADE_LIST values to each array and their counts. The setter
 * checks them as a parsed file's are: KF_E_LIMIT for more than KF_MAX_CASCADE_LIST values,
 * KF_E_ARG for an unknown activation, KF_E_NUMERIC for a steepness that is not finite. */
kf_status kf_net_get_cascade(const kf_net *net, uint32_t *functions, uint32_t *num_functions, float *steepnesses,
                             uint32_t *num_steepnesses);
kf_status kf_net_set_cascade(kf_net *net, const uint32_t *functions, uint32_t num_functions,
                             const float *steepnesses, uint32_t num_steepnesses);

/* Every weight uniform in [lo, hi] (fann_randomize_weights), drawn from seed. */
kf_status kf_net_randomize_weights(kf_net *net, float lo, float hi, uint64_t seed);
/* Nguyen-Widrow initialisation from the data's input range, as fann_init_weights does. */
typedef struct kf_data kf_data;
kf_status kf_net_init_weights(kf_net *net, const kf_data *data, uint64_t seed);
/* Replace all weights (total_connections values, all finite). */
kf_status kf_net_set_weights(kf_net *net, const float *weights, uint64_t count);

/* Floats of scratch that kf_net_run needs (any alignment: it uses the part that starts on a
 * 64-byte boundary). */
uint64_t kf_net_scratch_floats(const kf_net *net);
/* Run n samples: in is n x num_input, out is n x num_output. KF_E_NUMERIC for a NaN or infinite
 * input (the inputs are checked as the samples are reached: rows of out before it may be
 * written). */
kf_status kf_net_run(const kf_net *net, const float *in, uint64_t n, float *out, float *scratch,
                     uint64_t scratch_floats);

/* ---------------------------------------------------------------------------------------------
 * Scaling parameters (fann_set_scaling_params and friends). Scaled input:
 * ((x - mean) / deviation + 1) * factor + new_min, with factor = (new_max - new_min) / 2.
 * ------------------------------------------------------------------------------------------- */

typedef enum kf_scale_op { KF_SCALE_INPUT, KF_SCALE_OUTPUT, KF_DESCALE_INPUT, KF_DESCALE_OUTPUT } kf_scale_op;

/* Compute input (which=0), output (which=1) or both (which=2) parameters from a data set. */
kf_status kf_net_set_scaling(kf_net *net, const kf_data *data, int which, float new_min_in,
                             float new_max_in, float new_min_out, float new_max_out);
/* Reset to the identity-like defaults (mean 0, deviation 1, new_min -1, factor 1). */
void kf_net_clear_scaling(kf_net *net);
/* 1 when the network carries scaling parameters. */
int kf_net_has_scaling(const kf_net *net);
/* The parameters in .net file order: mean, deviation, new_min and factor of each input, then
 * the same four of each output: count must be 4 * (num_input + num_output). Zeros when the
 * network has none. */
kf_status kf_net_get_scaling_values(const kf_net *net, float *values, uint64_t count);
/* Replace them (the layout of kf_net_get_scaling_values; all finite, else KF_E_NUMERIC) and
 * mark them present. */
kf_status kf_net_set_scaling_values(kf_net *net, const float *values, uint64_t count);
/* Apply op in place to n rows (of num_input or num_output values). KF_E_UNSUPPORTED if the
 * network has no scaling parameters. */
kf_status kf_net_scale(const kf_net *net, kf_scale_op op, float *values, uint64_t n);

/* ---------------------------------------------------------------------------------------------
 * Training data: n pairs, row-major. The struct is a view; kf_data_alloc owns its arrays.
 * ------------------------------------------------------------------------------------------- */

struct kf_data {
    uint32_t num_data;   /* pairs */
    uint32_t num_input;  /* values per input row */
    uint32_t num_output; /* values per output row */
    float *input;        /* [num_data * num_input] */
    float *output;       /* [num_data * num_output] */
};

/* One allocation holding the struct and both arrays (zeroed); release with kf_free. */
kf_status kf_data_alloc(uint32_t num_data, uint32_t num_input, uint32_t num_output, kf_data **out);
/* Parse FANN's .data text ("pairs inputs outputs", then an input line and an output line per
 * pair). Release the result with kf_free. */
kf_status kf_data_parse(const char *text, size_t len, kf_data **out, kf_diag *diag);
/* FANN's .data text (as fann_save_train writes it). */
kf_status kf_data_format(const kf_data *data, char **text, size_t *len);
/* Permute the pairs (Fisher-Yates driven by seed). */
void kf_data_shuffle(kf_data *data, uint64_t seed);
/* Min-max scale every input (which=0), output (which=1) or both (2) value to [lo, hi] as
 * fann_scale_train_data does (one range over the whole block). */
kf_status kf_data_scale(kf_data *data, int which, float lo, float hi);

/* ---------------------------------------------------------------------------------------------
 * Training (FANN 2.2's algorithms and formulas). Per-network state lives in a kf_trainer.
 * ------------------------------------------------------------------------------------------- */

typedef struct kf_trainer kf_trainer;

typedef struct kf_epoch_stats {
    float mse;         /* mean squared error over all outputs of the epoch (FANN's get_MSE) */
    uint32_t bit_fail; /* outputs whose error reached bit_fail_limit */
} kf_epoch_stats;

/* State for training net (slopes, previous steps, random stream for SARPROP). The trainer
 * stays tied to networks of net's shape; kf_trainer_reset forgets the history. */
kf_status kf_trainer_create(const kf_net *net, uint64_t seed, kf_trainer **out);
void kf_trainer_reset(kf_trainer *trainer);
void kf_trainer_free(kf_trainer *trainer);

/* A trainer's history: what carries from one epoch (or sample) to the next, so that training
 * continues elsewhere (a copy, a pickle) exactly as it would have here. Everything else in a
 * trainer is scratch that every epoch rebuilds. */
typedef struct kf_trainer_state {
    uint32_t total_connections;  /* values in each array (the network's connections) */
    uint32_t cleared;            /* 1 once FANN's clear_train_arrays ran (first RPROP/Quickprop/SARPROP epoch) */
    uint32_t sarprop_epoch;      /* SARPROP epochs trained so far */
    uint64_t seed;               /* the trainer's seed: kf_trainer_reset restarts its random stream from it */
    uint64_t rng_state, rng_inc; /* the random stream now (PCG32; rng_inc is odd) */
    float mse_sum;               /* the error it has summed (FANN's MSE_value): finite, >= 0 */
    uint32_t num_mse;            /* outputs summed into it */
    uint32_t bit_fail;           /* failed bits among them */
    float *prev_steps;           /* RPROP and SARPROP step sizes, Quickprop's previous steps */
    float *prev_slopes;          /* the previous epoch's slopes (RPROP, Quickprop, SARPROP) */
    float *prev_deltas;          /* incremental training's previous weight changes (momentum) */
} kf_trainer_state;

/* Copy the history into state: the numbers, and the arrays into the caller's buffers of
 * state->total_connections floats each (KF_E_SHAPE when that is not the trainer's count). */
kf_status kf_trainer_get_state(const kf_trainer *trainer, kf_trainer_state *state);
/* Replace the history by state, checked first (the count: KF_E_SHAPE; cleared 0 or 1, an odd
 * rng_inc and mse_sum >= 0: KF_E_ARG; finite arrays and mse_sum: KF_E_NUMERIC); the trainer is
 * unchanged on error. */
kf_status kf_trainer_set_state(kf_trainer *trainer, const kf_trainer_state *state);

/* One epoch with net->params.training_algorithm (fann_train_epoch). */
kf_status kf_train_epoch(kf_net *net, kf_trainer *trainer, const kf_data *data, kf_epoch_stats *stats);
/* One incremental step on one pair (fann_train). Its error adds to the trainer's, as fann_train
 * adds to the MSE. */
kf_status kf_train_sample(kf_net *net, kf_trainer *trainer, const float *input, const float *desired);
/* The error the trainer has accumulated (fann_get_MSE, fann_get_bit_fail): of its last epoch and
 * every kf_train_sample pair since, or since kf_trainer_reset_mse; mse 0 before any. */
kf_status kf_trainer_get_mse(const kf_trainer *trainer, kf_epoch_stats *stats);
/* Forget the accumulated error (fann_reset_MSE); the training history is kept. */
void kf_trainer_reset_mse(kf_trainer *trainer);
/* Error of the network on a data set, without training (fann_test_data). */
kf_status kf_net_test(const kf_net *net, const kf_data *data, float *scratch, uint64_t scratch_floats,
                      kf_epoch_stats *stats);

/* ---------------------------------------------------------------------------------------------
 * Random draws as FANN takes them: glibc's rand() after srand(seed) (libfann's source of cascade
 * candidate weights and SARPROP noise), or the library's own generator (PCG32).
 * ------------------------------------------------------------------------------------------- */

#define KF_RAND_MAX 2147483647 /* the largest draw: glibc's RAND_MAX */

typedef enum kf_random_kind { KF_RANDOM_PCG = 0, KF_RANDOM_GLIBC = 1 } kf_random_kind;

/* A stream of draws in 0 .. KF_RAND_MAX. Plain data owned by the caller: set it with
 * kf_random_glibc or kf_random_pcg, draw with kf_random_next; a copy continues the same stream. */
typedef struct kf_random {
    uint32_t kind;       /* kf_random_kind */
    uint32_t front;      /* glibc: index of the tap that receives each sum (fptr) */
    uint32_t rear;       /* glibc: index of the tap added to it (rptr) */
    uint32_t table[31];  /* glibc: the additive feedback table of random_r's TYPE_3 (degree 31) */
    uint64_t state, inc; /* PCG32: state and stream */
} kf_random;

/* The stream glibc's rand() gives after srand(seed) (seed 0 acts as 1, as in glibc). */
void kf_random_glibc(kf_random *r, uint32_t seed);
/* The library's own generator, seeded. */
void kf_random_pcg(kf_random *r, uint64_t seed);
/* The next draw, in 0 .. KF_RAND_MAX (rand()). */
uint32_t kf_random_next(kf_random *r);
/* FANN's fann_rand(lo, hi) over the next draw, in float arithmetic:
 * lo + (hi - lo) * (float)draw / 2^31. */
float kf_random_uniform(kf_random *r, float lo, float hi);

/* ---------------------------------------------------------------------------------------------
 * Cascade-correlation training (FANN's Cascade2, fann_cascadetrain_on_data). A shortcut network
 * grows one hidden neuron at a time: its output connections are trained, then a pool of
 * candidate neurons (every cascade activation function x steepness x candidate group), each
 * reading every neuron but the outputs, is trained to correlate with the remaining error; the
 * best is installed in a new layer before the output layer. The network's training algorithm
 * (RPROP, Quickprop or SARPROP), error and stop functions and cascade_* parameters drive it,
 * with libfann's formulas and order of operations: with the glibc stream of the same seed, the
 * grown network is libfann's to the bit.
 * ------------------------------------------------------------------------------------------- */

/* Where the growth stands, at each report and at the end. */
typedef struct kf_cascade_report {
    uint32_t neurons;    /* hidden neurons added so far */
    uint32_t epochs;     /* epochs trained so far, output and candidate phases (FANN's total_epochs) */
    float mse;           /* MSE of the last output-training epoch (fann_get_MSE) */
    uint32_t bit_fail;   /* its failed bits (fann_get_bit_fail) */
    uint32_t activation; /* kf_activation of the last neuron added (when neurons > 0) */
    float steepness;     /* its steepness */
} kf_cascade_report;

/* Called after the output training that follows each added neuron (and the first one), where
 * libfann calls its callback: every neurons_between_reports neurons, after the first and the
 * last, and when the desired error is reached (every neuron when neurons_between_reports is 0).
 * A nonzero return stops the growth; the outputs are then trained one last time, as libfann does
 * when its callback returns -1. */
typedef int (*kf_cascade_fn)(const kf_cascade_report *report, void *ctx);

typedef struct kf_cascade_options {
    uint32_t max_neurons;             /* hidden neurons to add at most (>= 1) */
    uint32_t neurons_between_reports; /* see kf_cascade_fn */
    float desired_error;              /* stop when the stop function reaches it (MSE, or bit fail) */
    kf_random *random;                /* candidate weights (and SARPROP noise) are drawn from it */
    kf_cascade_fn callback;           /* NULL for none */
    void *ctx;                        /* passed to callback */
} kf_cascade_options;

/* Grow net on data into *out (net itself is left as it is); *final (may be NULL) receives the
 * state after the last output training. KF_E_UNSUPPORTED for a network that is not shortcut, an
 * algorithm that cascade training cannot use (incremental, batch) or an output activation without
 * a derivative (threshold); KF_E_ARG for max_neurons 0, no candidates (an empty cascade list or 0
 * groups) or a candidate activation FANN does not train (threshold, threshold_symmetric, relu,
 * leaky_relu); KF_E_SHAPE for data that does not fit the network or has no pairs; KF_E_NUMERIC
 * for values that are not finite; KF_E_LIMIT when the grown network would pass the limits. diag
 * says which. */
kf_status kf_cascade_train(const kf_net *net, const kf_data *data, const kf_cascade_options *options, kf_net **out,
                           kf_cascade_report *final, kf_diag *diag);

/* ---------------------------------------------------------------------------------------------
 * FANN .net text (FANN_FLO_2.1 written; FANN_FLO_2.0 and 2.1 read)
 * ------------------------------------------------------------------------------------------- */

kf_status kf_net_parse_fann(const char *text, size_t len, kf_net **out, kf_diag *diag);
kf_status kf_net_format_fann(const kf_net *net, char **text, size_t *len);

/* ---------------------------------------------------------------------------------------------
 * FANN fixed point (FANN_FIX_2.0, libfixedfann 2.2): integers with decimal_point fractional
 * bits, run exactly as libfixedfann's fann_run runs them (truncating products, its stepwise
 * sigmoids). Activations libfixedfann cannot run (elliot, gaussian, sin, cos, relu) are refused.
 * ------------------------------------------------------------------------------------------- */

typedef struct kf_fixnet kf_fixnet; /* opaque: built by kf_fixnet_parse_fann, kf_net_to_fixnet */

void kf_fixnet_free(kf_fixnet *net);
kf_status kf_fixnet_parse_fann(const char *text, size_t len, kf_fixnet **out, kf_diag *diag);
/* Sizes and kind, as for kf_net (0 for a NULL network). */
uint32_t kf_fixnet_num_layers(const kf_fixnet *net);
uint32_t kf_fixnet_num_input(const kf_fixnet *net);
uint32_t kf_fixnet_num_output(const kf_fixnet *net);
uint32_t kf_fixnet_total_neurons(const kf_fixnet *net);
uint32_t kf_fixnet_total_connections(const kf_fixnet *net);
kf_net_type kf_fixnet_network_type(const kf_fixnet *net);
/* Fractional bits of every value (0..30), and the integer for 1.0 (1 << decimal_point). */
uint32_t kf_fixnet_decimal_point(const kf_fixnet *net);
int32_t kf_fixnet_multiplier(const kf_fixnet *net);
/* As kf_net_get_structure; steepness in fixed point (value * multiplier). */
kf_status kf_fixnet_get_structure(const kf_fixnet *net, uint32_t *layer_start, uint32_t *con_start,
                                  uint32_t *con_src, uint8_t *activation, int32_t *steepness);
/* The weights in fixed point (count must be total_connections). */
kf_status kf_fixnet_get_weights(const kf_fixnet *net, int32_t *weights, uint64_t count);
/* 1 when libfixedfann computes activation a in fixed point (linear, threshold, the sigmoids and
 * linear_piece, symmetric or not). */
int kf_fixnet_activation_supported(kf_activation a);
/* KF_OK when kf_fixnet_run can run the network; else KF_E_UNSUPPORTED and, in diag, the first
 * neuron it cannot run and why (an activation libfixedfann has no fixed-point form of, or a
 * stepwise sigmoid with steepness 0, which libfixedfann divides by). */
kf_status kf_fixnet_check(const kf_fixnet *net, kf_diag *diag);
kf_status kf_fixnet_format_fann(const kf_fixnet *net, char **text, size_t *len);
/* The fixed-point version of a float network, with the decimal point fann_save_to_fixed
 * chooses and its rounding of every value. */
kf_status kf_net_to_fixnet(const kf_net *net, kf_fixnet **out);
/* Integers of scratch that kf_fixnet_run needs. */
uint64_t kf_fixnet_scratch_ints(const kf_fixnet *net);
/* Run n samples of num_input integers; writes n x num_output integers. KF_E_UNSUPPORTED for a
 * network kf_fixnet_check refuses. */
kf_status kf_fixnet_run(const kf_fixnet *net, const int32_t *in, uint64_t n, int32_t *out, int32_t *scratch,
                        uint64_t scratch_ints);

/* ---------------------------------------------------------------------------------------------
 * SIMD paths. The integer kernels give the same integers on every path; float kernels give the
 * same floats too (each sum keeps FANN's order). One path is active per process: the best the
 * CPU supports (the highest number), or the one KIMI_FANN_SIMD names (scalar, avx2, avx512,
 * neon, wasm, amx).
 * ------------------------------------------------------------------------------------------- */

typedef enum kf_simd {
    KF_SIMD_AUTO = 0, /* the active path */
    KF_SIMD_SCALAR = 1,
    KF_SIMD_AVX2 = 2,
    KF_SIMD_AVX512 = 3, /* AVX-512 F/BW/VL with VNNI */
    KF_SIMD_NEON = 4,
    KF_SIMD_WASM = 5,
    KF_SIMD_AMX = 6, /* AVX-512 with AMX-TILE and AMX-INT8 (Q8 products on tiles) */
    KF_SIMD_COUNT_ = 7
} kf_simd;

/* "scalar", "avx2", ... ("auto" for KF_SIMD_AUTO), or NULL if out of range. */
const char *kf_simd_name(kf_simd path);
/* 1 when path's kernels are compiled into this build. */
int kf_simd_built(kf_simd path);
/* 1 when path is built and this CPU (and OS) can run it. */
int kf_simd_supported(kf_simd path);
/* The active path, chosen once: KIMI_FANN_SIMD if set, else the best supported one. If
 * KIMI_FANN_SIMD names an unknown or unsupported path, *active is left at KF_SIMD_SCALAR and
 * KF_E_UNSUPPORTED (or KF_E_ARG) is returned, every time. */
kf_status kf_simd_active(kf_simd *active);

/* Kinds of multiply-accumulate for kf_simd_peak: those of Q8 products (uint8 x int8), of Q16
 * products (int16 x int16) and of float sums. */
typedef enum kf_peak_kind {
    KF_PEAK_INT8 = 0,
    KF_PEAK_INT16 = 1,
    KF_PEAK_FLOAT = 2,
    KF_PEAK_COUNT_ = 3
} kf_peak_kind;
/* Run path's register-only multiply-accumulate loop of that kind `rounds` times, with the
 * instruction its kernels use (vpdpbusd, tdpbusd, vpmaddwd, vmlal, ...; FMA for float where the
 * path has it), and report the multiply-accumulates done in *macs: timed, the path's peak, the
 * roofline of a benchmark. KF_E_UNSUPPORTED for a path this build or CPU cannot run. */
kf_status kf_simd_peak(kf_simd path, kf_peak_kind kind, uint64_t rounds, uint64_t *macs);

/* ---------------------------------------------------------------------------------------------
 * Native fixed point: Q8 (uint8 activations, int8 weights) and Q16 (int16 activations, int8 or
 * int16 weights), for layered networks. Per layer: out = table(requant(W a + bias)).
 *
 * - Accumulators are int32; kf_qnet_create proves, row by row, that |bias| + sum |w| * max|a|
 *   stays below 2^31, so no input can overflow them.
 * - requant(acc) = (acc * multiplier + 2^(shift - 1)) >> shift in 64-bit integers (round half
 *   up), multiplier and shift per output neuron (kf_requantize below).
 * - table(t) interpolates linearly between knots (output units times 2^KF_QTABLE_FRAC_BITS)
 *   spaced 2^seg_shift apart from t0, rounds half up and clamps to the activation range.
 * - Inputs are quantized per feature: a = clamp(floor(x * inv_scale + 0.5) + zero, lo, hi) in
 *   float arithmetic; outputs dequantized as (a - zero) * scale.
 * ------------------------------------------------------------------------------------------- */

#define KF_QTABLE_FRAC_BITS 8
#define KF_QTABLE_MAX_KNOTS 65537u

typedef struct kf_qlayer_desc {
    uint32_t n_in, n_out;
    const int16_t *weights;    /* [n_out * n_in] row-major; int8 range when weight_bits is 8 */
    const int32_t *bias;       /* [n_out] in accumulator units (zero points folded in) */
    const int32_t *multiplier; /* [n_out] >= 0 */
    const uint8_t *shift;      /* [n_out] 1 .. 62 */
    int32_t t0;                /* table: first knot's requantized value */
    uint32_t seg_shift;        /* log2 of the knot spacing, 0 .. 24 */
    uint32_t num_knots;        /* 2 .. KF_QTABLE_MAX_KNOTS */
    const int32_t *knots;      /* [num_knots] output * 2^KF_QTABLE_FRAC_BITS */
    int32_t out_lo, out_hi;    /* clamp of the layer's integer outputs */
} kf_qlayer_desc;

/* Largest |input zero point|: the clamp bounds (lo - zero, hi - zero) stay exact in float. */
#define KF_MAX_INPUT_ZERO ((1 << 24) - (1 << 16))

typedef struct kf_qnet_desc {
    uint32_t activation_bits;  /* 8 (Q8: activations 0..255) or 16 (Q16: -32768..32767) */
    uint32_t weight_bits;      /* 8, or 16 (Q16 only) */
    uint32_t num_layers;       /* weight layers (network layers - 1), 1 .. KF_MAX_LAYERS - 1 */
    uint32_t num_input;
    const float *input_inv_scale; /* [num_input] finite; input q = clamp(floor(x * inv + 0.5) + zero) */
    const int32_t *input_zero;    /* [num_input] |zero| <= KF_MAX_INPUT_ZERO: may lie outside the
                                     activation range (a feature whose range excludes 0) */
    float output_scale;
    int32_t output_zero;
    const kf_qlayer_desc *layers; /* [num_layers]; layer l's n_in is layer l-1's n_out */
    uint32_t shortcut;         /* 1: layer l reads the inputs and the outputs of layers 0 .. l-1, in that order
                                  (a shortcut network, as a cascade-trained one): its n_in is num_input plus
                                  their n_out; 0 (a zeroed field): layer l-1's outputs only */
} kf_qnet_desc;

typedef struct kf_qnet kf_qnet; /* opaque: packed weights for every SIMD path, tables */

/* Validate desc (ranges, sizes, the overflow bound) and build the network. */
kf_status kf_qnet_create(const kf_qnet_desc *desc, kf_qnet **out, kf_diag *diag);
void kf_qnet_free(kf_qnet *net);
uint32_t kf_qnet_num_input(const kf_qnet *net);
uint32_t kf_qnet_num_output(const kf_qnet *net);
/* Bytes of scratch that the run functions need for n samples. */
uint64_t kf_qnet_scratch_bytes(const kf_qnet *net, uint64_t n);
/* Quantized inputs (n x num_input, within the activation range: KF_E_SHAPE otherwise) to
 * quantized outputs. */
kf_status kf_qnet_run_raw(const kf_qnet *net, kf_simd path, const int32_t *in, uint64_t n, int32_t *out,
                          void *scratch, uint64_t scratch_bytes);
/* Float inputs to float outputs: quantize, run, dequantize. Non-finite inputs are refused
 * (KF_E_NUMERIC; outputs of the samples before them may have been written); finite ones beyond
 * the calibrated range saturate. */
kf_status kf_qnet_run(const kf_qnet *net, kf_simd path, const float *in, uint64_t n, float *out,
                      void *scratch, uint64_t scratch_bytes);

/* The requantization: round half up of acc * multiplier / 2^shift, in 64-bit integers
 * (shift 1 .. 62). The right shift of a negative value is arithmetic on every compiler the
 * library supports (gcc, clang, MSVC document it), i.e. a floor division. */
static inline int64_t kf_requantize(int32_t acc, int32_t multiplier, uint32_t shift)
{
    return ((int64_t)acc * multiplier + ((int64_t)1 << (shift - 1))) >> shift;
}

/* ---------------------------------------------------------------------------------------------
 * Router: scores = gates . x for every expert, the top_k experts by score (ties to the lower
 * index), and their weights.
 * - KF_SCORING_SOFTMAX: weights are the softmax of the selected scores.
 * - KF_SCORING_SIGMOID (Kimi-K2, DeepSeek-V3): s = sigmoid(score); selection by s + bias[e]
 *   (the bias steers load and never reaches the weights); weights s / sum(s) * scaling.
 * Float gates sum each score in eight interleaved partial sums combined in a fixed tree, on
 * every SIMD path, so scores (and choices) are the same on all of them. Quantized gates
 * (int8/int16, a scale per expert) meet the input quantized per sample (max |x| to the top
 * code) in the fixed-point engine's exact integer kernels.
 * ------------------------------------------------------------------------------------------- */

#define KF_MAX_EXPERTS 65536u
#define KF_MAX_TOP_K 64u

typedef enum kf_scoring { KF_SCORING_SOFTMAX = 0, KF_SCORING_SIGMOID = 1 } kf_scoring;

typedef struct kf_router_desc {
    uint32_t n_experts, dim, top_k;
    uint32_t scoring;          /* kf_scoring */
    uint32_t gate_bits;        /* 32 (float gates), 16 or 8 (quantized) */
    const float *gates;        /* [n_experts * dim] float gates (gate_bits 32) */
    const int16_t *gates_q;    /* [n_experts * dim] quantized gates (gate_bits 8 or 16) */
    const float *gate_scale;   /* [n_experts] value of one step of each quantized gate row */
    const float *bias;         /* [n_experts] selection bias (added to the scores, or to the sigmoid
                                  scores, for choosing only; the weights ignore it), or NULL */
    float scaling;             /* factor on the selected weights (sigmoid scoring), 1 for none */
} kf_router_desc;

/* A float router of at least 96 experts and 8 x top_k also keeps an int8 copy of its gates that
 * screens the experts (router.c): the choices and weights are those of scoring every expert. */
typedef struct kf_router kf_router; /* opaque */

kf_status kf_router_create(const kf_router_desc *desc, kf_router **out, kf_diag *diag);
void kf_router_free(kf_router *router);
/* Replace the selection bias (n_experts finite values; NULL clears it). Not while routing. */
kf_status kf_router_set_bias(kf_router *router, const float *bias);
uint32_t kf_router_n_experts(const kf_router *router);
uint32_t kf_router_dim(const kf_router *router);
uint32_t kf_router_top_k(const kf_router *router);
uint64_t kf_router_scratch_bytes(const kf_router *router, uint64_t n);
/* Route n samples: experts and weights receive n x top_k values (in order of selection);
 * load, when not NULL, has each expert's count added. Non-finite inputs are refused (KF_E_NUMERIC;
 * the outputs and load are then partly written). */
kf_status kf_router_route(const kf_router *router, kf_simd path, const float *x, uint64_t n, uint32_t *experts,
                          float *weights, uint64_t *load, void *scratch, uint64_t scratch_bytes);

/* ---------------------------------------------------------------------------------------------
 * Mixture of experts: y = shared(x) + sum over the router's choices of weight * expert(x).
 * One call routes a batch, groups the samples by expert, runs each expert once on its group,
 * and combines the weighted outputs in each sample's order of selection. The mixture refers to
 * its router and experts, which must outlive it and not change while it runs.
 * ------------------------------------------------------------------------------------------- */

typedef enum kf_expert_kind { KF_EXPERT_FLOAT = 0, KF_EXPERT_QUANTIZED = 1 } kf_expert_kind;

typedef struct kf_expert {
    uint32_t kind;     /* kf_expert_kind */
    const void *model; /* const kf_net * or const kf_qnet * */
} kf_expert;

typedef struct kf_moe kf_moe; /* opaque */

/* experts: one per router expert, each with the router's input size and one common output
 * size; shared may be NULL. */
kf_status kf_moe_create(const kf_router *router, const kf_expert *experts, uint32_t n_experts,
                        const kf_expert *shared, kf_moe **out, kf_diag *diag);
void kf_moe_free(kf_moe *moe);
uint32_t kf_moe_num_output(const kf_moe *moe);
uint64_t kf_moe_scratch_bytes(const kf_moe *moe, uint64_t n);
/* n samples in, n x num_output out; experts and weights (n x top_k, may be NULL) receive the
 * routing. */
kf_status kf_moe_run(const kf_moe *moe, kf_simd path, const float *x, uint64_t n, float *y, uint32_t *experts,
                     float *weights, void *scratch, uint64_t scratch_bytes);

/* ---------------------------------------------------------------------------------------------
 * Thread pool: the tasks of one job (chunks of a batch) on the calling thread and on helpers
 *
 * The core starts no thread. A binding creates a pool and runs helper threads of its own that
 * call kf_pool_serve; kf_pool_run then spreads a job's tasks over the caller and up to `helpers`
 * of them (each task runs exactly once, on some thread; a job never waits for a helper to come):
 * the caller takes tasks 0, 1, ... in turn and the helpers n - 1, n - 2, ..., until they meet.
 * Helpers spin between jobs for idle_ns, then park: kf_pool_serve returns 1, and the binding
 * makes the helper wait until it has a job for it, calls kf_pool_unpark and serves again.
 * One job at a time: a job submitted while another runs runs on its caller's thread alone.
 * ------------------------------------------------------------------------------------------- */

#define KF_POOL_MAX_TASKS 65535u

typedef struct kf_pool kf_pool; /* opaque */
/* One task of a job: its status goes to the job's statuses[task]. */
typedef kf_status (*kf_task_fn)(void *ctx, uint32_t task);

kf_status kf_pool_create(kf_pool **out);
/* After kf_pool_stop, once every helper has returned from kf_pool_serve. */
void kf_pool_free(kf_pool *pool);
/* Runs task(ctx, i) for i in 0..n-1 and returns when all have finished; statuses has n entries.
 * A NULL pool or no helpers runs the tasks in order on this thread. */
kf_status kf_pool_run(kf_pool *pool, uint32_t n, uint32_t helpers, kf_task_fn task, void *ctx, kf_status *statuses);
/* A helper thread's loop: returns 1 after idle_ns without a job (parked), 0 once stopped. */
int kf_pool_serve(kf_pool *pool, uint64_t idle_ns);
/* A parked helper about to serve again. */
void kf_pool_unpark(kf_pool *pool);
/* Helpers parked now (a binding wakes them before submitting). */
uint32_t kf_pool_parked(kf_pool *pool);
/* Makes every kf_pool_serve return 0. */
void kf_pool_stop(kf_pool *pool);

#ifdef __cplusplus
}
#endif

#endif /* KFANN_H */
