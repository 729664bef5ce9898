# Installs the SDK as a CMake package so out-of-tree plug-ins can
#   find_package(regiongate) and call rg_add_plugin().
install(DIRECTORY ${PROJECT_SOURCE_DIR}/core/include/regiongate/
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/regiongate
        FILES_MATCHING PATTERN "abi.h" PATTERN "sdk/*.hpp")
