# Shared build settings for Arbiter's libraries, executables and tests.

set(ARBITER_WARNINGS -Wall -Wextra -Wpedantic -Wnon-virtual-dtor -Wimplicit-fallthrough)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  list(APPEND ARBITER_WARNINGS -Wshadow=local)
  # g++ 12 at -O3 reports impossible overlaps inside std::string's inlined copies (GCC bug 105651).
  if(CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    list(APPEND ARBITER_WARNINGS -Wno-restrict)
  endif()
else()
  list(APPEND ARBITER_WARNINGS -Wshadow-uncaptured-local)
endif()
if(ARBITER_WERROR)
  list(APPEND ARBITER_WARNINGS -Werror)
endif()

if(ARBITER_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

# arbiter_module(NAME <m> SOURCES <files...> [DEPS <targets...>])
# Defines the static library arbiter_<m> (alias arbiter::<m>), with includes rooted at src/.
function(arbiter_module)
  cmake_parse_arguments(ARG "" "NAME" "SOURCES;DEPS" ${ARGN})
  add_library(arbiter_${ARG_NAME} STATIC ${ARG_SOURCES})
  add_library(arbiter::${ARG_NAME} ALIAS arbiter_${ARG_NAME})
  target_include_directories(arbiter_${ARG_NAME} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_compile_options(arbiter_${ARG_NAME} PRIVATE ${ARBITER_WARNINGS})
  target_link_libraries(arbiter_${ARG_NAME} PUBLIC ${ARG_DEPS})
endfunction()

# arbiter_test(NAME <binary> SOURCES <files...> DEPS <targets...>)
# One GoogleTest binary per module; each test case is registered with ctest. Tests find the shared-data,
# build and source directories through tests/support/shared_data.h.
function(arbiter_test)
  cmake_parse_arguments(ARG "" "NAME" "SOURCES;DEPS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SOURCES})
  target_compile_options(${ARG_NAME} PRIVATE ${ARBITER_WARNINGS})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS} arbiter_test_support GTest::gtest GTest::gtest_main)
  # The directories reach the tests as compile definitions of arbiter_test_support (see
  # tests/support/shared_data.h); the environment variables of the same names override them.
  gtest_discover_tests(${ARG_NAME} DISCOVERY_TIMEOUT 60)
endfunction()

# arbiter_link_allocator(<source dir>)
# Links ARBITER_ALLOCATOR_LIBRARY into every executable defined in that directory (relative to the
# top-level source directory), ahead of libc, so that it serves malloc and operator new.
function(arbiter_link_allocator dir)
  get_property(targets DIRECTORY ${CMAKE_SOURCE_DIR}/${dir} PROPERTY BUILDSYSTEM_TARGETS)
  foreach(target IN LISTS targets)
    get_target_property(type ${target} TYPE)
    if(type STREQUAL "EXECUTABLE")
      target_link_libraries(${target} PRIVATE ${ARBITER_ALLOCATOR_LIBRARY})
    endif()
  endforeach()
endfunction()
