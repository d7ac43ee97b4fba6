# Compile flags of nn_sgemm's kernels (gemm_*.c beside this file).
#
# Each gemm_<level>.c is built with its instruction-set level's flags; the binary as a whole stays
# at the baseline target, and gemm.c runs a level only on a CPU that has it. A file built without
# its flags still compiles and simply offers no kernel, so forgetting this file costs speed, not
# correctness.
#
#   include(<this file>)          defines AETHER_GEMM_SOURCES (absolute paths) and
#   aether_gemm_flags(DIR)        sets the flags for targets defined in directory DIR
#                                 (the directory whose targets compile AETHER_GEMM_SOURCES)
include(CheckCCompilerFlag)

set(AETHER_GEMM_DIR ${CMAKE_CURRENT_LIST_DIR})
set(AETHER_GEMM_SOURCES
    ${AETHER_GEMM_DIR}/gemm.c ${AETHER_GEMM_DIR}/gemm_generic.c
    ${AETHER_GEMM_DIR}/gemm_avx2.c ${AETHER_GEMM_DIR}/gemm_avx512.c)

# -ffp-contract=fast lets the multiply-adds become FMA instructions (ISO C mode turns that off).
# -mprefer-vector-width=512: the compiler otherwise stays at 256-bit vectors on AVX-512 CPUs.
set(AETHER_GEMM_X86 OFF)
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$" AND CMAKE_C_COMPILER_ID MATCHES "GNU|Clang")
  check_c_compiler_flag("-mavx512f -mfma -mprefer-vector-width=512" AETHER_GEMM_HAS_AVX512_FLAGS)
  if(AETHER_GEMM_HAS_AVX512_FLAGS)
    set(AETHER_GEMM_X86 ON)
  endif()
endif()

function(aether_gemm_flags dir)
  if(AETHER_GEMM_X86)
    set_source_files_properties(${AETHER_GEMM_DIR}/gemm_avx2.c DIRECTORY ${dir}
                                PROPERTIES COMPILE_OPTIONS "-mavx2;-mfma;-ffp-contract=fast")
    set_source_files_properties(${AETHER_GEMM_DIR}/gemm_avx512.c DIRECTORY ${dir}
      PROPERTIES COMPILE_OPTIONS "-mavx512f;-mfma;-mprefer-vector-width=512;-ffp-contract=fast")
  endif()
endfunction()
