#pragma once
// TESSERA_VECTOR_CLONES: build a host function once per x86-64 vector width (AVX-512F,
// AVX2, baseline) and let the loader pick one for the CPU it runs on (GCC and Clang
// target_clones). The build targets baseline x86-64 (SSE2, 4 floats a vector); the
// element-wise loops marked with this run at the widest width the CPU has.
//
// A file of such functions must be compiled with -ffp-contract=off (core/CMakeLists.txt):
// GCC's avx512f brings FMA, and a fused multiply-add would round differently from the
// generic loops. Without it every element gets the same operations in the same order,
// so the results are bitwise those of the generic loops on any CPU.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__CUDACC__)
#define TESSERA_VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#define TESSERA_HAS_VECTOR_CLONES 1
#else
#define TESSERA_VECTOR_CLONES
#define TESSERA_HAS_VECTOR_CLONES 0
#endif
