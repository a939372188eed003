# lossfn::kernels: the kernel instantiations of include/lossfn/detail/instances.hpp
# compiled once (src/kernels/, one unit per family, loss or scalar so that they
# build in parallel). LOSSFN_COMPILED_KERNELS is PUBLIC: every unit that links the
# library declares those kernels extern and so does not compile them again.
file(GLOB _lossfn_kernel_sources CONFIGURE_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/src/kernels/*.cpp")
add_library(lossfn_kernels STATIC ${_lossfn_kernel_sources})
add_library(lossfn::kernels ALIAS lossfn_kernels)
set_target_properties(lossfn_kernels PROPERTIES EXPORT_NAME kernels POSITION_INDEPENDENT_CODE ON)
target_link_libraries(lossfn_kernels PUBLIC lossfn)
target_compile_definitions(lossfn_kernels PUBLIC LOSSFN_COMPILED_KERNELS)
# lossfn's warnings, without exporting the private lossfn_warnings target
target_compile_options(lossfn_kernels PRIVATE $<TARGET_PROPERTY:lossfn_warnings,INTERFACE_COMPILE_OPTIONS>)
