# `cmake --install <build> [--prefix P]` lays regiongate out as the CLI expects to find it
# relative to its own binary, and exports the CMake package plug-ins build against:
#   bin/regiongate, bin/rg-vendor-sim, bin/regiongate-new-plugin
#   lib/regiongate/plugins/<id>/{rg-plugin-<id>.so,plugin.yaml}   every vendor plug-in
#   share/regiongate/config/{regions,registry,schema,lexicons}    the shipped policy
#   share/regiongate/templates/plugin/                             tools/new-plugin's templates
#   include/regiongate/abi.h, include/regiongate/sdk/*.hpp        ABI and plug-in SDK
#   lib/cmake/regiongate/                                          find_package(regiongate):
#     rg::abi, rg::plugin_sdk (header-only), rg_add_plugin(), rg_install_plugin()
# The fixed lib/ and share/ paths (not GNUInstallDirs' multiarch libdir) are the ones the CLI
# searches (tools/regiongate/cli_context.cpp). rg::core is not exported: plug-ins never link
# the host.
include(CMakePackageConfigHelpers)

set(RG_INSTALL_CMAKEDIR lib/cmake/regiongate)

# ABI header and SDK (header-only).
install(FILES ${PROJECT_SOURCE_DIR}/core/include/regiongate/abi.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/regiongate)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/core/include/regiongate/sdk/
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/regiongate/sdk
        FILES_MATCHING PATTERN "*.hpp")
install(TARGETS rg_abi rg_plugin_sdk EXPORT regiongateTargets)
install(EXPORT regiongateTargets NAMESPACE rg:: DESTINATION ${RG_INSTALL_CMAKEDIR})

# The ABI version the installed header speaks, for the package's variables.
file(STRINGS ${PROJECT_SOURCE_DIR}/core/include/regiongate/abi.h _rg_abi_lines
     REGEX "^#define RG_ABI_VERSION_(MAJOR|MINOR) +[0-9]+")
foreach(_line IN LISTS _rg_abi_lines)
  if(_line MATCHES "RG_ABI_VERSION_(MAJOR|MINOR) +([0-9]+)")
    set(RG_ABI_VERSION_${CMAKE_MATCH_1} ${CMAKE_MATCH_2})
  endif()
endforeach()

configure_package_config_file(
  ${CMAKE_CURRENT_LIST_DIR}/regiongateConfig.cmake.in
  ${PROJECT_BINARY_DIR}/regiongateConfig.cmake
  INSTALL_DESTINATION ${RG_INSTALL_CMAKEDIR}
  PATH_VARS CMAKE_INSTALL_INCLUDEDIR)
# The package version is regiongate's; which plug-ins load is decided by the ABI version
# (docs/abi.md), which the loader checks against each plug-in's manifest.
write_basic_package_version_file(
  ${PROJECT_BINARY_DIR}/regiongateConfigVersion.cmake
  VERSION ${PROJECT_VERSION}
  COMPATIBILITY SameMajorVersion
  ARCH_INDEPENDENT)  # headers and CMake code only
install(FILES
          ${PROJECT_BINARY_DIR}/regiongateConfig.cmake
          ${PROJECT_BINARY_DIR}/regiongateConfigVersion.cmake
          ${PROJECT_SOURCE_DIR}/cmake/RgPlugin.cmake
          ${PROJECT_SOURCE_DIR}/cmake/RgPluginManifest.cmake
        DESTINATION ${RG_INSTALL_CMAKEDIR})

# The vendor plug-ins (the list plugins/CMakeLists.txt builds).
if(TARGET rg_plugins)
  get_target_property(_rg_plugin_targets rg_plugins MANUALLY_ADDED_DEPENDENCIES)
  if(NOT _rg_plugin_targets)
    set(_rg_plugin_targets "")
  endif()
  foreach(_target IN LISTS _rg_plugin_targets)
    string(REGEX REPLACE "^rg_plugin_" "" _id ${_target})
    rg_install_plugin(ID ${_id} TARGET ${_target})
  endforeach()
endif()

# Policy, scaffolding. The executables install themselves (tools/*/CMakeLists.txt).
install(DIRECTORY ${PROJECT_SOURCE_DIR}/config/ DESTINATION share/regiongate/config)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/tools/templates/plugin
        DESTINATION share/regiongate/templates)
install(FILES ${PROJECT_SOURCE_DIR}/.clang-format  # new-plugin formats what it writes
        DESTINATION share/regiongate/templates/plugin)
install(PROGRAMS ${PROJECT_SOURCE_DIR}/tools/new-plugin
        DESTINATION ${CMAKE_INSTALL_BINDIR} RENAME regiongate-new-plugin)
