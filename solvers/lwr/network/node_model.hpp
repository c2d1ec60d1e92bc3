#pragma once
// The node model of the cell transmission model: how much of each in-link's demand
// crosses a junction, given the supply of each out-link. Tampere, Corthout, Cattrysse &
// Immers (2011), "A generic class of first order node models for dynamic macroscopic
// simulation of traffic flows" (the supply-constrained, FIFO, capacity-proportional
// model):
//   1. every out-link j offers its supply to the in-links that send to it, in proportion
//      to their oriented capacities C_i beta_ij: a_j = R_j / sum_i C_i beta_ij;
//   2. the most restrictive out-link j* (smallest a_j) decides: in-links whose whole
//      demand fits (S_i <= a_j* C_i) send it all; if none does, every in-link sending to
//      j* gets a_j* C_i, split over its out-links by its turning fractions (FIFO: a
//      blocked turn holds back the others, so off-ramp queues spill back);
//   3. the supplies shrink by what was sent, and the loop repeats until every in-link is
//      decided.
// A merge (two in, one out) reduces to Daganzo's rule: free flow when S1 + S2 <= R,
// otherwise q_i = mid(S_i, R - S_k, p_i R) with p_i = C_i / (C_1 + C_2); a diverge (one in)
// to q = min(S, min_j R_j / beta_j). Deterministic: ties go to the lowest index, so every
// rank that evaluates a node gets the same bits.
#include <Kokkos_Core.hpp>

#include "solvers/lwr/network/road_network.hpp"

namespace tessera::solvers::lwr::network {

// demand[i], priority[i] (> 0): per in-link; beta[i * kMaxNodeDegree + j]: turning
// fractions (rows sum to 1); supply[j]: per out-link. Writes in_flow[i] and out_flow[j]
// (veh/s). Sizes: n_in, n_out <= kMaxNodeDegree.
KOKKOS_INLINE_FUNCTION void node_model(int n_in, int n_out, const double* demand,
                                       const double* priority, const double* beta,
                                       const double* supply, double* in_flow, double* out_flow) {
  double remaining[kMaxNodeDegree];
  bool undecided[kMaxNodeDegree];
  for (int j = 0; j < n_out; ++j) remaining[j] = supply[j];
  for (int i = 0; i < n_in; ++i) {
    in_flow[i] = 0.0;
    undecided[i] = demand[i] > 0.0;
  }
  for (;;) {
    int most_restrictive = -1;
    double share = 0.0;  // a_j*: supply per unit of oriented capacity
    for (int j = 0; j < n_out; ++j) {
      double oriented_capacity = 0.0;
      for (int i = 0; i < n_in; ++i) {
        if (undecided[i]) oriented_capacity += priority[i] * beta[i * kMaxNodeDegree + j];
      }
      if (oriented_capacity <= 0.0) continue;
      double a = remaining[j] / oriented_capacity;
      if (a < 0.0) a = 0.0;  // rounding can leave -1e-18 of supply
      if (most_restrictive < 0 || a < share) {
        most_restrictive = j;
        share = a;
      }
    }
    if (most_restrictive < 0) break;  // every in-link decided
    const int js = most_restrictive;
    bool demand_constrained = false;
    for (int i = 0; i < n_in; ++i) {
      if (undecided[i] && beta[i * kMaxNodeDegree + js] > 0.0 && demand[i] <= share * priority[i]) {
        demand_constrained = true;
        in_flow[i] = demand[i];
        undecided[i] = false;
        for (int j = 0; j < n_out; ++j) remaining[j] -= demand[i] * beta[i * kMaxNodeDegree + j];
      }
    }
    if (demand_constrained) continue;
    for (int i = 0; i < n_in; ++i) {
      if (undecided[i] && beta[i * kMaxNodeDegree + js] > 0.0) {
        in_flow[i] = share * priority[i];
        undecided[i] = false;
        for (int j = 0; j < n_out; ++j) remaining[j] -= in_flow[i] * beta[i * kMaxNodeDegree + j];
      }
    }
  }
  for (int j = 0; j < n_out; ++j) {
    double sum = 0.0;
    for (int i = 0; i < n_in; ++i) sum += in_flow[i] * beta[i * kMaxNodeDegree + j];
    out_flow[j] = sum;
  }
}

// The same junction without FIFO: each out-link j shares its supply among the movements
// into it (demand S_i beta_ij, priority C_i beta_ij) by the rule above for one out-link,
// and a blocked movement does not hold back the others of its in-link.
KOKKOS_INLINE_FUNCTION void node_model_without_fifo(int n_in, int n_out, const double* demand,
                                                    const double* priority, const double* beta,
                                                    const double* supply, double* in_flow,
                                                    double* out_flow) {
  double movement_demand[kMaxNodeDegree], movement_priority[kMaxNodeDegree];
  double movement_flow[kMaxNodeDegree], one[kMaxNodeDegree * kMaxNodeDegree];
  for (int i = 0; i < n_in; ++i) {
    in_flow[i] = 0.0;
    one[i * kMaxNodeDegree] = 1.0;
  }
  for (int j = 0; j < n_out; ++j) {
    for (int i = 0; i < n_in; ++i) {
      movement_demand[i] = demand[i] * beta[i * kMaxNodeDegree + j];
      movement_priority[i] = priority[i] * beta[i * kMaxNodeDegree + j];
    }
    node_model(n_in, 1, movement_demand, movement_priority, one, supply + j, movement_flow,
               out_flow + j);
    for (int i = 0; i < n_in; ++i) in_flow[i] += movement_flow[i];
  }
}

}  // namespace tessera::solvers::lwr::network
