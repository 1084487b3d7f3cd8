/* A FANN .net file in memory, between its text and a network (float or FANN fixed point). */
#ifndef KF_FANN_TEXT_H
#define KF_FANN_TEXT_H

#include "internal.h"

typedef struct kf_fann_text {
    int fixed;              /* FANN_FIX_2.0 (integer values) rather than FANN_FLO_2.x */
    uint32_t decimal_point; /* fixed point only */
    uint32_t num_layers, network_type;
    uint32_t layer_sizes[KF_MAX_LAYERS]; /* neurons per layer, bias neurons included */
    float connection_rate;
    kf_params params; /* a fixed file's integer fields are in the fixed_* fields instead */
    int32_t fixed_bit_fail_limit, fixed_cascade_candidate_limit, fixed_cascade_weight_multiplier;
    int32_t fixed_cascade_steepnesses[KF_MAX_CASCADE_LIST];
    uint32_t num_input, num_output, total_neurons, total_connections;
    int has_scaling;    /* float files only */
    const float *scale; /* [4 * (num_input + num_output)]: mean, deviation, new_min, factor; in, out */
    /* Filled by the parser only (and released by kf_fann_text_release): */
    float *scale_owned;
    uint32_t *counts;   /* [total_neurons] incoming connections */
    uint8_t *activation;
    double *steepness;  /* [total_neurons] float or integer value */
    uint32_t *src;      /* [total_connections] */
    double *weight;     /* [total_connections] float or integer value */
} kf_fann_text;

/* Read a .net text: FANN_FLO_2.0/2.1 when fixed is 0, FANN_FIX_2.0 when 1. Sizes, indices and
 * enum values are checked here; the structure is checked by whoever builds the network. */
kf_status kf_fann_text_parse(const char *text, size_t len, int fixed, kf_fann_text *out, kf_diag *diag);
void kf_fann_text_release(kf_fann_text *f);

/* The header lines as libfann writes them: version, parameters, layer sizes, scale block. */
void kf_fann_text_write_header(kf_text *t, const kf_fann_text *f);

#endif
