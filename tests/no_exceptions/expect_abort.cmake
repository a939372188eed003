# cmake -DPROGRAM=... -DARG=... -DEXPECT=<regex> -P expect_abort.cmake
# Passes when PROGRAM ARG dies (abort: a signal, not a normal exit) and its stderr matches EXPECT.
execute_process(COMMAND "${PROGRAM}" "${ARG}" RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(result MATCHES "^[0-9]+$")
  message(FATAL_ERROR "${PROGRAM} ${ARG} exited normally with ${result}; it must abort\nstdout:\n${out}\nstderr:\n${err}")
endif()
if(NOT err MATCHES "${EXPECT}")
  message(FATAL_ERROR "${PROGRAM} ${ARG} aborted (${result}) without the expected message on stderr\n"
                      "  expected: ${EXPECT}\n  stderr:\n${err}")
endif()
message(STATUS "aborted (${result}) with the message: ${EXPECT}")
