# Install rules: headers, the exported target, a package config with its version
# file, and a pkg-config file. Included from the top-level CMakeLists.txt.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(LOSSFN_INSTALL_CMAKEDIR "${CMAKE_INSTALL_DATADIR}/cmake/lossfn"
    CACHE STRING "Where lossfnConfig.cmake is installed (relative to the prefix)")

install(TARGETS lossfn EXPORT lossfnTargets)
if(TARGET lossfn_kernels)
  install(TARGETS lossfn_kernels EXPORT lossfnTargets ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}")
endif()
install(DIRECTORY include/lossfn DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
install(EXPORT lossfnTargets NAMESPACE lossfn:: DESTINATION "${LOSSFN_INSTALL_CMAKEDIR}")

configure_package_config_file(cmake/lossfnConfig.cmake.in
  "${CMAKE_CURRENT_BINARY_DIR}/lossfnConfig.cmake"
  INSTALL_DESTINATION "${LOSSFN_INSTALL_CMAKEDIR}")
# A header-only library fits any architecture; lossfn::kernels is compiled for one.
if(TARGET lossfn_kernels)
  set(_lossfn_arch_independent "")
else()
  set(_lossfn_arch_independent ARCH_INDEPENDENT)
endif()
write_basic_package_version_file("${CMAKE_CURRENT_BINARY_DIR}/lossfnConfigVersion.cmake"
  COMPATIBILITY SameMinorVersion ${_lossfn_arch_independent})
install(FILES "${CMAKE_CURRENT_BINARY_DIR}/lossfnConfig.cmake" "${CMAKE_CURRENT_BINARY_DIR}/lossfnConfigVersion.cmake"
  DESTINATION "${LOSSFN_INSTALL_CMAKEDIR}")

# pkg-config, relocatable: paths relative to ${prefix}.
if(IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(LOSSFN_PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
else()
  set(LOSSFN_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
configure_file(cmake/lossfn.pc.in "${CMAKE_CURRENT_BINARY_DIR}/lossfn.pc" @ONLY)
install(FILES "${CMAKE_CURRENT_BINARY_DIR}/lossfn.pc" DESTINATION "${CMAKE_INSTALL_DATADIR}/pkgconfig")
