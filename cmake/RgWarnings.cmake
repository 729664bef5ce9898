# Warning and sanitizer flags live on INTERFACE targets that every project target links;
# nobody edits CMAKE_CXX_FLAGS. -Wnull-dereference is left out on purpose: at -O2 GCC 12
# reports it inside libstdc++ streams and Boost.Asio, where it cannot be fixed.
add_library(rg_warnings INTERFACE)
target_compile_options(rg_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion
  $<$<COMPILE_LANGUAGE:CXX>:-Wnon-virtual-dtor -Wold-style-cast -Woverloaded-virtual>
  $<$<BOOL:${RG_WERROR}>:-Werror>)

add_library(rg_sanitizers INTERFACE)
if(RG_SANITIZE)
  target_compile_options(rg_sanitizers INTERFACE
    -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(rg_sanitizers INTERFACE -fsanitize=address,undefined)
endif()

# One call for every first-party target.
function(rg_target_defaults target)
  target_link_libraries(${target} PRIVATE rg_warnings rg_sanitizers)
endfunction()
