# cmake -DCXX=... -DSOURCE=... -DEXPECT=<regex> -DFLAGS=<list> -P expect_compile_failure.cmake
# Passes when compiling SOURCE fails AND the compiler's output matches EXPECT.
execute_process(COMMAND "${CXX}" ${FLAGS} "${SOURCE}"
  RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(result EQUAL 0)
  message(FATAL_ERROR "${SOURCE} compiled, but it must not")
endif()
if(NOT out MATCHES "${EXPECT}")
  message(FATAL_ERROR "${SOURCE} failed to compile, but without the expected message\n"
                      "  expected: ${EXPECT}\n  compiler output:\n${out}")
endif()
message(STATUS "failed to compile, as expected, with: ${EXPECT}")
