/* The definitions of the core's float and FANN fixed-point networks. Internal: kfann.h declares
 * them opaque (callers use its accessors), so that caches such as weights_packed stay private. The
 * field names are those the forward passes (run.c), training (train.c) and the kernels use. */
#ifndef KF_OBJECTS_H
#define KF_OBJECTS_H

#include "kfann.h"

/* A float network: one block from kf_net_alloc (net.c), the arrays carved from it. */
struct kf_net {
    uint32_t num_layers;        /* layers, input and output included (>= 2) */
    uint32_t network_type;      /* kf_net_type */
    float connection_rate;      /* 1 for fully connected networks */
    uint32_t num_input;         /* input neurons, bias excluded */
    uint32_t num_output;        /* output neurons, bias excluded */
    uint32_t total_neurons;     /* all neurons, bias neurons included */
    uint32_t total_connections; /* all weights */
    uint32_t *layer_start;      /* [num_layers + 1] first neuron of each layer; last = total */
    uint32_t *con_start;        /* [total_neurons + 1] first connection of each neuron */
    uint32_t *con_src;          /* [total_connections] source neuron of each connection */
    float *weights;             /* [total_connections] */
    uint8_t *activation;        /* [total_neurons] kf_activation of each neuron */
    float *steepness;           /* [total_neurons] */
    uint8_t *contiguous;        /* [total_neurons] 1 when neuron j reads consecutive neurons */
    uint32_t has_scaling;       /* 1 when the scale_* arrays below hold parameters */
    float *scale_mean_in, *scale_deviation_in, *scale_new_min_in, *scale_factor_in;     /* [num_input] */
    float *scale_mean_out, *scale_deviation_out, *scale_new_min_out, *scale_factor_out; /* [num_output] */
    kf_params params;
    uint32_t simd;              /* kf_simd of the float sums: KIMI_FANN_SIMD or the best path, set at
                                   creation; every path gives the same bits (fann_run's order) */
    uint32_t exp_kind;          /* which model of exp libm's is (exp_glibc.h), found at creation: the
                                   vector activations give libm's bits through it */
    /* The weights of each block of R neurons that one sample's forward pass sums together (R is
     * the path's packed_rows: 16 on AVX-512, 8 elsewhere), interleaved (packed[k0 + i * R + q] =
     * weights[k0 + q * n + i] for the block's first connection k0 and n sources), so that one
     * vector load holds the block's i-th weights. The forward pass reads them while
     * packed_current is 1: every function that changes weights refreshes them (kf_net_pack). */
    float *weights_packed;            /* [total_connections] */
    /* kf_dense_run at every neuron where a step of the forward pass starts (kf_net_pack finds
     * them with the blocks), so that a sample's pass does not scan the layer for them; read,
     * like weights_packed, while packed_current is 1. */
    uint32_t *dense_run;              /* [total_neurons] */
    uint32_t packed_current;
};

/* Refresh weights_packed from weights (see kf_net) and mark it current. Every library function that
 * changes weights calls it; code inside the library that writes weights itself calls it after. */
void kf_net_pack(kf_net *net);

/* A FANN fixed-point network (fixnet.c), one block likewise. */
struct kf_fixnet {
    uint32_t num_layers, network_type;
    float connection_rate;
    uint32_t num_input, num_output, total_neurons, total_connections;
    uint32_t decimal_point;   /* fractional bits (0..30) */
    int32_t multiplier;       /* 1 << decimal_point: the integer for 1.0 */
    uint32_t *layer_start;    /* as in kf_net */
    uint32_t *con_start;
    uint32_t *con_src;
    int32_t *weights;         /* [total_connections] */
    uint8_t *activation;      /* [total_neurons] kf_activation */
    int32_t *steepness;       /* [total_neurons] */
    uint8_t *contiguous;      /* [total_neurons] */
    /* The stepwise sigmoids' breakpoints (values) and levels (results), from the multiplier as
     * fann_update_stepwise computes them. */
    int32_t sigmoid_values[6], sigmoid_results[6];
    int32_t sigmoid_symmetric_values[6], sigmoid_symmetric_results[6];
    kf_params params;         /* kept for the file; bit_fail_limit etc. in fixed point below */
    int32_t bit_fail_limit, cascade_candidate_limit, cascade_weight_multiplier;
    int32_t cascade_activation_steepnesses[KF_MAX_CASCADE_LIST];
};

#endif /* KF_OBJECTS_H */
