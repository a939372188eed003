# Configures lossfn at the top level with BUILD_TESTING=OFF and checks that
# LOSSFN_BUILD_TESTS followed it (so no test target was generated).
file(REMOVE_RECURSE "${WORK}")
execute_process(
  COMMAND "${CMAKE_COMMAND}" -S "${SOURCE}" -B "${WORK}" "-DCMAKE_CXX_COMPILER=${CXX}" -DBUILD_TESTING=OFF
    -DLOSSFN_BUILD_EXAMPLES=OFF -DLOSSFN_BUILD_BENCHMARKS=OFF
  RESULT_VARIABLE result OUTPUT_QUIET)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "configuring lossfn with BUILD_TESTING=OFF failed")
endif()
file(STRINGS "${WORK}/CMakeCache.txt" tests_line REGEX "^LOSSFN_BUILD_TESTS:")
if(NOT tests_line MATCHES "=OFF$")
  message(FATAL_ERROR "BUILD_TESTING=OFF left ${tests_line}")
endif()
if(EXISTS "${WORK}/tests")
  message(FATAL_ERROR "BUILD_TESTING=OFF still generated ${WORK}/tests")
endif()
