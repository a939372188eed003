# Install rules: headers, the exported target, a package config with its version
# file, and a pkg-config file (two with lossfn::kernels). Included from the top-level CMakeLists.txt.
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

# lossfn::kernels: lossfn-kernels.pc, next to the library (it is built for one
# architecture, so in LIBDIR/pkgconfig rather than DATADIR/pkgconfig). It requires
# lossfn (DATADIR/pkgconfig) and adds the target's compile definition and library:
#   pkg-config --cflags --libs lossfn-kernels
if(TARGET lossfn_kernels)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
    set(LOSSFN_PC_LIBDIR "${CMAKE_INSTALL_LIBDIR}")
    set(LOSSFN_PC_KERNELS_TO_PREFIX "../..")  # prefix is unused then
  else()
    set(LOSSFN_PC_LIBDIR "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
    # LIBDIR may have more than one component (lib/x86_64-linux-gnu)
    file(RELATIVE_PATH LOSSFN_PC_KERNELS_TO_PREFIX "/lossfn-prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/lossfn-prefix")
    string(REGEX REPLACE "/$" "" LOSSFN_PC_KERNELS_TO_PREFIX "${LOSSFN_PC_KERNELS_TO_PREFIX}")
  endif()
  get_target_property(_lossfn_kernels_definitions lossfn_kernels INTERFACE_COMPILE_DEFINITIONS)
  if(NOT _lossfn_kernels_definitions STREQUAL "LOSSFN_COMPILED_KERNELS")
    message(FATAL_ERROR "lossfn-kernels.pc.in names -DLOSSFN_COMPILED_KERNELS; lossfn::kernels defines ${_lossfn_kernels_definitions}")
  endif()
  configure_file(cmake/lossfn-kernels.pc.in "${CMAKE_CURRENT_BINARY_DIR}/lossfn-kernels.pc.in" @ONLY)
  # the library's file name ($<TARGET_LINKER_FILE_BASE_NAME>) from the generator
  file(GENERATE OUTPUT "${CMAKE_CURRENT_BINARY_DIR}/lossfn-kernels.pc"
    INPUT "${CMAKE_CURRENT_BINARY_DIR}/lossfn-kernels.pc.in")
  install(FILES "${CMAKE_CURRENT_BINARY_DIR}/lossfn-kernels.pc" DESTINATION "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
endif()
