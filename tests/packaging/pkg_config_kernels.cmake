# lossfn installed with LOSSFN_BUILD_KERNELS=ON: builds tests/packaging/consumer.cpp
# with nothing but `pkg-config --cflags --libs lossfn-kernels` and runs it.
#   cmake -DPKG_CONFIG=pkg-config -DPREFIX=... -DLIBDIR=lib -DDATADIR=share -DCXX=c++
#         "-DCXXFLAGS=..." -DCONSUMER=consumer.cpp -DWORK=dir -P pkg_config_kernels.cmake
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}")
set(ENV{PKG_CONFIG_PATH} "${PREFIX}/${LIBDIR}/pkgconfig:${PREFIX}/${DATADIR}/pkgconfig")
execute_process(COMMAND "${PKG_CONFIG}" --cflags --libs lossfn-kernels
  OUTPUT_VARIABLE flags ERROR_VARIABLE error RESULT_VARIABLE result OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "pkg-config lossfn-kernels failed: ${error}")
endif()
message("pkg-config --cflags --libs lossfn-kernels: ${flags}")
# Without the definition the consumer would compile its own kernels and link
# without the library: the flags must carry both.
if(NOT flags MATCHES "(^| )-DLOSSFN_COMPILED_KERNELS( |$)")
  message(FATAL_ERROR "lossfn-kernels.pc gives no -DLOSSFN_COMPILED_KERNELS")
endif()
if(NOT flags MATCHES "(^| )-llossfn_kernels( |$)")
  message(FATAL_ERROR "lossfn-kernels.pc does not link lossfn_kernels")
endif()
if(NOT flags MATCHES "(^| )-I[^ ]*/include( |$)")
  message(FATAL_ERROR "lossfn-kernels.pc does not require lossfn (its include directory)")
endif()
separate_arguments(flags UNIX_COMMAND "${flags}")
separate_arguments(cxxflags UNIX_COMMAND "${CXXFLAGS}")
execute_process(COMMAND "${CXX}" -std=c++17 ${cxxflags} "${CONSUMER}" ${flags} -o "${WORK}/consumer"
  RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "building the consumer with lossfn-kernels.pc's flags failed")
endif()
execute_process(COMMAND "${WORK}/consumer" RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "the consumer failed")
endif()
