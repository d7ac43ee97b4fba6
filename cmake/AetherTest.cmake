# Helpers used by every module's CMakeLists.txt.

# aether_add_children(DIR): add_subdirectory for every folder under DIR (any depth, outermost
# only) that has a CMakeLists.txt, so areas can be added without editing a shared list.
function(aether_add_children parent)
  file(GLOB_RECURSE lists RELATIVE ${CMAKE_SOURCE_DIR}/${parent} ${CMAKE_SOURCE_DIR}/${parent}/*/CMakeLists.txt)
  list(SORT lists)
  set(added "")
  foreach(list_file ${lists})
    get_filename_component(area ${list_file} DIRECTORY)
    set(nested FALSE)
    foreach(prev ${added})
      string(FIND "${area}/" "${prev}/" pos)
      if(pos EQUAL 0)
        set(nested TRUE)
      endif()
    endforeach()
    if(NOT nested)
      add_subdirectory(${CMAKE_SOURCE_DIR}/${parent}/${area} ${CMAKE_BINARY_DIR}/${parent}/${area})
      list(APPEND added ${area})
    endif()
  endforeach()
endfunction()

pkg_check_modules(CMOCKA REQUIRED IMPORTED_TARGET cmocka)

# aether_unit_test(NAME SOURCES src... LIBS lib...)
# One cmocka executable, registered with ctest under its NAME.
function(aether_unit_test name)
  cmake_parse_arguments(T "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS} PkgConfig::CMOCKA m)
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  add_test(NAME ${name} COMMAND ${name})
endfunction()

# aether_fuzzer(NAME SOURCES src... LIBS lib... CORPUS dir...)
# The source defines LLVMFuzzerTestOneInput. With AETHER_FUZZ it links libFuzzer; otherwise it
# links a small driver that replays every file of the corpus dirs, and the replay is a ctest,
# so the seeds (and every crash once added to them) run in `make test` and under the sanitizers.
function(aether_fuzzer name)
  cmake_parse_arguments(F "" "" "SOURCES;LIBS;CORPUS" ${ARGN})
  if(AETHER_FUZZ)
    add_executable(${name} ${F_SOURCES})
    target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  else()
    add_executable(${name} ${F_SOURCES} ${CMAKE_SOURCE_DIR}/tests/fuzz/replay_main.c)
    target_link_libraries(${name} PRIVATE aether_util)
    add_test(NAME ${name}_replay COMMAND ${name} ${F_CORPUS})
  endif()
  target_link_libraries(${name} PRIVATE ${F_LIBS} m)
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
endfunction()

# aether_count_allocations(target): counts the target's heap allocations through
# tests/support/alloc_count.h (allocation functions wrapped at link time).
function(aether_count_allocations target)
  target_sources(${target} PRIVATE ${CMAKE_SOURCE_DIR}/tests/support/alloc_count.c)
  target_include_directories(${target} PRIVATE ${CMAKE_SOURCE_DIR}/tests/support)
  target_link_options(${target} PRIVATE
    -Wl,--wrap=malloc -Wl,--wrap=calloc -Wl,--wrap=realloc -Wl,--wrap=free
    -Wl,--wrap=aligned_alloc -Wl,--wrap=posix_memalign)
endfunction()
