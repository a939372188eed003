# Builds two small consumers of lossfn in ctest, one per route:
#   lossfn.find_package:   cmake --install into a temporary prefix, then find_package(lossfn 0.1 CONFIG REQUIRED)
#   lossfn.add_subdirectory: the source tree vendored as a subdirectory (a git submodule)
set(_pkg_dir "${CMAKE_CURRENT_SOURCE_DIR}/packaging")
set(_pkg_work "${CMAKE_CURRENT_BINARY_DIR}/packaging")
set(_pkg_prefix "${_pkg_work}/prefix")
set(_pkg_generator_args -G "${CMAKE_GENERATOR}" -DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER})

add_test(NAME lossfn.package.install
  COMMAND "${CMAKE_COMMAND}" --install "${PROJECT_BINARY_DIR}" --prefix "${_pkg_prefix}")
set_tests_properties(lossfn.package.install PROPERTIES FIXTURES_SETUP lossfn_installed)

add_test(NAME lossfn.package.find_package
  COMMAND "${CMAKE_CTEST_COMMAND}"
    --build-and-test "${_pkg_dir}/find_package" "${_pkg_work}/find_package"
    --build-generator "${CMAKE_GENERATOR}"
    --build-options -DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER} "-DCMAKE_PREFIX_PATH=${_pkg_prefix}"
    --test-command consumer)
set_tests_properties(lossfn.package.find_package PROPERTIES FIXTURES_REQUIRED lossfn_installed
  PASS_REGULAR_EXPRESSION "lossfn consumer: ok")

add_test(NAME lossfn.package.add_subdirectory
  COMMAND "${CMAKE_CTEST_COMMAND}"
    --build-and-test "${_pkg_dir}/add_subdirectory" "${_pkg_work}/add_subdirectory"
    --build-generator "${CMAKE_GENERATOR}"
    --build-options -DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER} "-DLOSSFN_SOURCE_DIR=${PROJECT_SOURCE_DIR}"
    --test-command consumer)
set_tests_properties(lossfn.package.add_subdirectory PROPERTIES PASS_REGULAR_EXPRESSION "lossfn consumer: ok")

# A plain #include with nothing but the include paths (what a user without CMake does).
add_test(NAME lossfn.package.plain_include
  COMMAND "${CMAKE_CXX_COMPILER}" -std=c++17 -fsyntax-only "-I${PROJECT_SOURCE_DIR}/include"
    "-I$<JOIN:$<TARGET_PROPERTY:Eigen3::Eigen,INTERFACE_INCLUDE_DIRECTORIES>,;-I>"
    "${_pkg_dir}/consumer.cpp"
  COMMAND_EXPAND_LISTS)

# BUILD_TESTING=OFF (CTest's switch) at the top level turns lossfn's tests off.
add_test(NAME lossfn.package.build_testing_off
  COMMAND "${CMAKE_COMMAND}" "-DSOURCE=${PROJECT_SOURCE_DIR}" "-DWORK=${_pkg_work}/build_testing_off"
    "-DCXX=${CMAKE_CXX_COMPILER}" -P "${_pkg_dir}/build_testing_off.cmake")

# lossfn::kernels (LOSSFN_BUILD_KERNELS=ON): installed, exported, and found as the
# component `kernels`; the consumer links the compiled kernels, so it is built with
# this build's CMAKE_CXX_FLAGS (the library carries them: the asan preset's sanitizers).
if(TARGET lossfn_kernels)
  add_test(NAME lossfn.package.find_package_kernels
    COMMAND "${CMAKE_CTEST_COMMAND}"
      --build-and-test "${_pkg_dir}/find_package_kernels" "${_pkg_work}/find_package_kernels"
      --build-generator "${CMAKE_GENERATOR}"
      --build-options -DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER} "-DCMAKE_PREFIX_PATH=${_pkg_prefix}"
        "-DCMAKE_CXX_FLAGS=${CMAKE_CXX_FLAGS}"
      --test-command consumer)
  set_tests_properties(lossfn.package.find_package_kernels PROPERTIES FIXTURES_REQUIRED lossfn_installed
    PASS_REGULAR_EXPRESSION "lossfn consumer: ok")
endif()

# lossfn-kernels.pc (installed with lossfn::kernels): a consumer built with only
# `pkg-config --cflags --libs lossfn-kernels`, with this build's CMAKE_CXX_FLAGS
# (the library carries them: the asan preset's sanitizer runtime, for one).
find_program(LOSSFN_PKG_CONFIG pkg-config)
if(TARGET lossfn_kernels AND LOSSFN_PKG_CONFIG)
  add_test(NAME lossfn.package.pkg_config_kernels
    COMMAND "${CMAKE_COMMAND}" "-DPKG_CONFIG=${LOSSFN_PKG_CONFIG}" "-DPREFIX=${_pkg_prefix}"
      "-DLIBDIR=${CMAKE_INSTALL_LIBDIR}" "-DDATADIR=${CMAKE_INSTALL_DATADIR}" "-DCXX=${CMAKE_CXX_COMPILER}"
      "-DCXXFLAGS=${CMAKE_CXX_FLAGS}" "-DCONSUMER=${_pkg_dir}/consumer.cpp" "-DWORK=${_pkg_work}/pkg_config_kernels"
      -P "${_pkg_dir}/pkg_config_kernels.cmake")
  set_tests_properties(lossfn.package.pkg_config_kernels PROPERTIES FIXTURES_REQUIRED lossfn_installed
    PASS_REGULAR_EXPRESSION "lossfn consumer: ok")
endif()

# lossfn::kernels vendored (add_subdirectory with LOSSFN_BUILD_KERNELS=ON, as
# docs/compiled_kernels.md shows): the parent builds the library itself, with its
# own flags, so this consumer is a plain unoptimised build (the 8 kernel units at -O0,
# about 120 CPU s with g++). It tests CMake logic, not code: not in sanitizer builds
# (scripts/test's g++ leg runs it, the asan leg does not build the kernels twice).
if(TARGET lossfn_kernels AND NOT CMAKE_CXX_FLAGS MATCHES "-fsanitize=")
  add_test(NAME lossfn.package.add_subdirectory_kernels
    COMMAND "${CMAKE_CTEST_COMMAND}"
      --build-and-test "${_pkg_dir}/add_subdirectory_kernels" "${_pkg_work}/add_subdirectory_kernels"
      --build-generator "${CMAKE_GENERATOR}"
      --build-options -DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER} "-DLOSSFN_SOURCE_DIR=${PROJECT_SOURCE_DIR}"
      --test-command consumer)
  set_tests_properties(lossfn.package.add_subdirectory_kernels PROPERTIES PASS_REGULAR_EXPRESSION "lossfn consumer: ok")
endif()
