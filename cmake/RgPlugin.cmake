# rg_add_plugin(): builds one regiongate provider plug-in the same way in tree and out of
# tree (this file is installed with the CMake package).
#
#   rg_add_plugin(ID openai
#                 SOURCES openai_entry.cpp openai_client.cpp
#                 MANIFEST plugin.yaml.in
#                 [OUTPUT_DIR dir])          # default: ${RG_PLUGIN_OUTPUT_DIR} or <build>/plugins
#
# Produces <OUTPUT_DIR>/<ID>/rg-plugin-<ID>.so and, after every link, <OUTPUT_DIR>/<ID>/plugin.yaml
# configured from MANIFEST with @RG_PLUGIN_SHA256@, @RG_PLUGIN_LIBRARY@ and
# @RG_PLUGIN_VERSION@ filled in, so the hash in the manifest always matches the library.
# Plug-ins are linked with a version script that exports only the ABI entry symbol.
set(_RG_PLUGIN_CMAKE_DIR ${CMAKE_CURRENT_LIST_DIR})

function(rg_add_plugin)
  cmake_parse_arguments(ARG "" "ID;MANIFEST;OUTPUT_DIR;VERSION;TARGET" "SOURCES;LIBRARIES" ${ARGN})
  if(NOT ARG_ID OR NOT ARG_SOURCES OR NOT ARG_MANIFEST)
    message(FATAL_ERROR "rg_add_plugin: ID, SOURCES and MANIFEST are required")
  endif()
  if(NOT ARG_TARGET)
    set(ARG_TARGET rg_plugin_${ARG_ID})
  endif()
  if(NOT ARG_VERSION)
    set(ARG_VERSION ${PROJECT_VERSION})
  endif()
  if(NOT ARG_OUTPUT_DIR)
    if(RG_PLUGIN_OUTPUT_DIR)
      set(ARG_OUTPUT_DIR ${RG_PLUGIN_OUTPUT_DIR})
    else()
      set(ARG_OUTPUT_DIR ${CMAKE_BINARY_DIR}/plugins)
    endif()
  endif()
  set(out_dir ${ARG_OUTPUT_DIR}/${ARG_ID})
  set(lib_name rg-plugin-${ARG_ID})

  add_library(${ARG_TARGET} MODULE ${ARG_SOURCES})
  target_link_libraries(${ARG_TARGET} PRIVATE rg::plugin_sdk ${ARG_LIBRARIES})
  if(TARGET rg_warnings)
    target_link_libraries(${ARG_TARGET} PRIVATE rg_warnings rg_sanitizers)
  endif()
  set_target_properties(${ARG_TARGET} PROPERTIES
    PREFIX ""
    OUTPUT_NAME ${lib_name}
    LIBRARY_OUTPUT_DIRECTORY ${out_dir}
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  # Only the entry symbol leaves the library (DESIGN rule 2); GNU-unique template statics
  # would otherwise be exported and could pin the library in memory.
  set(vscript ${CMAKE_CURRENT_BINARY_DIR}/${ARG_TARGET}.map)
  # Written through configure_file so an unchanged script keeps its timestamp and a
  # re-configure does not relink every plug-in.
  file(WRITE ${vscript}.in "{\n  global: rg_plugin_entry;\n  local: *;\n};\n")
  configure_file(${vscript}.in ${vscript} COPYONLY)
  target_link_options(${ARG_TARGET} PRIVATE
    "LINKER:--version-script=${vscript}" "LINKER:--no-undefined" "LINKER:-z,now")
  set_property(TARGET ${ARG_TARGET} APPEND PROPERTY LINK_DEPENDS ${vscript})

  get_filename_component(manifest_in ${ARG_MANIFEST} ABSOLUTE)
  add_custom_command(TARGET ${ARG_TARGET} POST_BUILD
    COMMAND ${CMAKE_COMMAND}
      -DRG_LIBRARY=$<TARGET_FILE:${ARG_TARGET}>
      -DRG_MANIFEST_IN=${manifest_in}
      -DRG_MANIFEST_OUT=${out_dir}/plugin.yaml
      -DRG_VERSION=${ARG_VERSION}
      -P ${_RG_PLUGIN_CMAKE_DIR}/RgPluginManifest.cmake
    COMMENT "Writing ${out_dir}/plugin.yaml with the library's sha256"
    VERBATIM)
  set_property(TARGET ${ARG_TARGET} APPEND PROPERTY LINK_DEPENDS ${manifest_in})
endfunction()

# rg_install_plugin(ID id [TARGET target] [DESTINATION dir])
# Installs a plug-in built by rg_add_plugin() as the host looks for it:
# <prefix>/<DESTINATION>/<ID>/{rg-plugin-<ID>.so,plugin.yaml}, DESTINATION defaulting to
# lib/regiongate/plugins (what `regiongate` searches next to <prefix>/bin). The library is
# copied byte for byte (install(FILES), not install(TARGETS), which may rewrite the RPATH)
# so it still matches the sha256 in its manifest.
function(rg_install_plugin)
  cmake_parse_arguments(ARG "" "ID;TARGET;DESTINATION" "" ${ARGN})
  if(NOT ARG_ID)
    message(FATAL_ERROR "rg_install_plugin: ID is required")
  endif()
  if(NOT ARG_TARGET)
    set(ARG_TARGET rg_plugin_${ARG_ID})
  endif()
  if(NOT ARG_DESTINATION)
    set(ARG_DESTINATION lib/regiongate/plugins)
  endif()
  if(NOT TARGET ${ARG_TARGET})
    message(FATAL_ERROR "rg_install_plugin: no target '${ARG_TARGET}'; call rg_add_plugin(ID ${ARG_ID} ...) first")
  endif()
  install(FILES $<TARGET_FILE:${ARG_TARGET}> $<TARGET_FILE_DIR:${ARG_TARGET}>/plugin.yaml
          DESTINATION ${ARG_DESTINATION}/${ARG_ID}
          PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
endfunction()
