# Helpers shared by every lab's CMakeLists.txt.

# Warnings: -Werror on the project's own code. A student's copy gets the same
# warnings without -Werror: a stub whose parameters are not used yet must
# still build, and a warning in a student's code is not a failed grade.
function(kvlab_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra)
  if(NOT KVLAB_PREFIX)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# Adds one lab (reference or copy). The lab's CMakeLists names its targets
# ${KVLAB_PREFIX}labNN..., so the copies never clash with the reference.
function(kvlab_add_lab dir prefix)
  get_filename_component(name ${dir} NAME)
  set(KVLAB_PREFIX "${prefix}")
  if(prefix STREQUAL "")
    add_subdirectory(${dir} ${CMAKE_BINARY_DIR}/labs/${name})
  else()
    # The student's copy is part of the default build; the grader's scratch
    # copies are built only when the grader asks for their targets.
    string(REGEX REPLACE "-$" "" prefix_name "${prefix}")
    if(prefix STREQUAL "student-")
      add_subdirectory(${dir} ${CMAKE_BINARY_DIR}/copies/${prefix_name}/${name})
    else()
      if(prefix MATCHES "^bug-")
        # The selftest's known-bug copies: a compile each, most of the
        # README test command's time. -O0 -g0 compiles them about 2.5 times
        # faster, and no bug depends on optimisation. (Set in this
        # function's scope, so only these copies see it; --impl copies
        # are built as the reference is.)
        string(TOUPPER "${CMAKE_BUILD_TYPE}" config)
        set(CMAKE_CXX_FLAGS_${config} "${CMAKE_CXX_FLAGS_${config}} -O0 -g0")
      endif()
      add_subdirectory(${dir} ${CMAKE_BINARY_DIR}/copies/${prefix_name}/${name}
                       EXCLUDE_FROM_ALL)
    endif()
  endif()
endfunction()

# Registers a lab's unit tests with CTest. The reference's tests are part of
# the README's test command; the student's copy's tests carry the label
# "student", which that command excludes (a fresh starter copy fails them by
# design); the grader's scratch copies register none.
function(kvlab_add_tests target)
  if(NOT KVLAB_PREFIX)
    gtest_discover_tests(${target} PROPERTIES DISCOVERY_TIMEOUT 60)
  elseif(KVLAB_PREFIX STREQUAL "student-")
    gtest_discover_tests(${target} TEST_PREFIX "student."
                         PROPERTIES LABELS student DISCOVERY_TIMEOUT 60)
  endif()
endfunction()
