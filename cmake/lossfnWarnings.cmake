# Warning flags for lossfn's own tests, examples and benchmarks: a private target,
# never exported, so consumers of lossfn::lossfn get none of these.
add_library(lossfn_warnings INTERFACE)
if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
  target_compile_options(lossfn_warnings INTERFACE -Wall -Wextra -Wpedantic -Wconversion -Wsign-conversion -Wshadow)
  if(LOSSFN_WERROR)
    target_compile_options(lossfn_warnings INTERFACE -Werror)
  endif()
elseif(MSVC)
  target_compile_options(lossfn_warnings INTERFACE /W4 $<$<BOOL:${LOSSFN_WERROR}>:/WX>)
endif()
