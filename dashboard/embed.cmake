# The dashboard's assets, embedded into a library at build time.
#
# aether_embed_dashboard(TARGET) generates dashboard_assets.c (one C array per file, the table
# dash_assets[] of src/node/dashboard.h) from the page's own sources in dashboard/ and the
# charting library npm installed into dashboard/node_modules (scripts/install-dashboard-deps,
# run by scripts/install-deps), and adds it to TARGET. When the library is not installed the
# build says so and goes on: the node then answers the dashboard route with what is missing
# (dash_missing), and the API works as before.
set(AETHER_DASHBOARD_DIR ${CMAKE_CURRENT_LIST_DIR})

function(aether_embed_dashboard target)
  set(d ${AETHER_DASHBOARD_DIR})
  # name|source file (bin2c.cmake derives the content type from the name's extension)
  set(own "index.html|${d}/index.html" "app.js|${d}/app.js" "app.css|${d}/app.css")
  set(lib "uPlot.iife.min.js|${d}/node_modules/uplot/dist/uPlot.iife.min.js"
          "uPlot.min.css|${d}/node_modules/uplot/dist/uPlot.min.css"
          "uPlot.LICENSE.txt|${d}/node_modules/uplot/LICENSE")
  set(assets ${own})
  set(missing "")
  foreach(entry ${lib})
    string(REPLACE "|" ";" parts "${entry}")
    list(GET parts 1 file)
    if(EXISTS ${file})
      list(APPEND assets "${entry}")
    else()
      list(APPEND missing "${file}")
    endif()
  endforeach()
  if(missing)
    string(REPLACE ";" ", " missing_text "${missing}")
    set(missing_text "the charting library uPlot is not installed (missing ${missing_text}): run scripts/install-deps, then rebuild")
    message(WARNING "dashboard: ${missing_text}. The node builds without its dashboard; the API works.")
  else()
    set(missing_text "")
  endif()
  set(files "")
  foreach(entry ${assets})
    string(REPLACE "|" ";" parts "${entry}")
    list(GET parts 1 file)
    list(APPEND files ${file})
  endforeach()
  set(out ${CMAKE_CURRENT_BINARY_DIR}/dashboard_assets.c)
  # The list is handed over in a file: entries hold spaces and semicolons are list separators.
  string(REPLACE ";" "\n" assets_lines "${assets}")
  # Rewritten only when their text changes, so a reconfigure does not re-embed everything.
  set(b ${CMAKE_CURRENT_BINARY_DIR})
  file(WRITE ${b}/dashboard_assets.list.new "${assets_lines}\n")
  file(WRITE ${b}/dashboard_missing.txt.new "${missing_text}")
  configure_file(${b}/dashboard_assets.list.new ${b}/dashboard_assets.list COPYONLY)
  configure_file(${b}/dashboard_missing.txt.new ${b}/dashboard_missing.txt COPYONLY)
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DLIST=${CMAKE_CURRENT_BINARY_DIR}/dashboard_assets.list
            -DMISSING=${CMAKE_CURRENT_BINARY_DIR}/dashboard_missing.txt -DOUT=${out}
            -P ${d}/bin2c.cmake
    DEPENDS ${files} ${d}/bin2c.cmake ${CMAKE_CURRENT_BINARY_DIR}/dashboard_assets.list
            ${CMAKE_CURRENT_BINARY_DIR}/dashboard_missing.txt
    COMMENT "Embedding the dashboard's assets"
    VERBATIM)
  target_sources(${target} PRIVATE ${out})
endfunction()
