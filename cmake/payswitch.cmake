# Shared build settings and helpers for payswitch modules.

set(PS_WARNINGS -Wall -Wextra -Wshadow -Wvla -Wformat=2 -Wno-format-nonliteral)
if(PS_WERROR)
  list(APPEND PS_WARNINGS -Werror)
endif()
add_compile_options(${PS_WARNINGS} -fno-omit-frame-pointer)
add_compile_definitions(_GNU_SOURCE)

if(PS_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

if(PS_FUZZ)
  # Libraries get coverage instrumentation; fuzz executables add the driver.
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

# ps_add_test(NAME <name> SOURCES <files...> LIBS <targets...> [TIMEOUT <s>] [LABELS <l...>])
# A cmocka test executable registered with ctest, bounded in time.
function(ps_add_test)
  cmake_parse_arguments(T "" "NAME;TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 120)
  endif()
  add_executable(${T_NAME} ${T_SOURCES})
  target_link_libraries(${T_NAME} PRIVATE ${T_LIBS} PkgConfig::CMOCKA)
  set_target_properties(${T_NAME} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  target_compile_definitions(${T_NAME} PRIVATE
    PS_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    PS_BIN_DIR="${CMAKE_BINARY_DIR}/bin"
    PS_SHARED_DIR="${PROJECT_SOURCE_DIR}/../shared")
  add_test(NAME ${T_NAME} COMMAND ${T_NAME})
  set_tests_properties(${T_NAME} PROPERTIES TIMEOUT ${T_TIMEOUT})
  if(T_LABELS)
    set_tests_properties(${T_NAME} PROPERTIES LABELS "${T_LABELS}")
  endif()
endfunction()

# ps_add_fuzzer(NAME <name> SOURCE <file> LIBS <targets...> CORPUS <dir>)
# With PS_FUZZ: a libFuzzer executable <name> in bin/fuzz. Without it: a
# replay executable that runs the driver over every file of the corpus, as
# a ctest test, so the sanitized test build checks the corpus on each run.
function(ps_add_fuzzer)
  cmake_parse_arguments(F "" "NAME;SOURCE;CORPUS" "LIBS" ${ARGN})
  if(PS_FUZZ)
    add_executable(${F_NAME} ${F_SOURCE})
    target_link_libraries(${F_NAME} PRIVATE ${F_LIBS})
    target_link_options(${F_NAME} PRIVATE -fsanitize=fuzzer)
    set_target_properties(${F_NAME} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/fuzz)
  else()
    add_executable(${F_NAME}-replay ${F_SOURCE} ${PROJECT_SOURCE_DIR}/tests/fuzz/replay_main.c)
    target_link_libraries(${F_NAME}-replay PRIVATE ${F_LIBS})
    set_target_properties(${F_NAME}-replay PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
    add_test(NAME ${F_NAME}-corpus COMMAND ${F_NAME}-replay ${F_CORPUS})
    set_tests_properties(${F_NAME}-corpus PROPERTIES TIMEOUT 120 LABELS fuzz)
  endif()
endfunction()
