# Unpacks the Cedar conformance corpus into the build folder (ctest fixture). Does nothing when the
# shared data is absent (the corpus shards then skip) or the corpus is already unpacked.
if(NOT EXISTS "${ARCHIVE}")
  message(STATUS "cedar corpus archive ${ARCHIVE} not found; corpus tests will skip")
  return()
endif()
if(EXISTS "${DEST}/corpus-tests/.unpacked")
  return()
endif()
file(REMOVE_RECURSE "${DEST}")
file(MAKE_DIRECTORY "${DEST}")
execute_process(COMMAND ${CMAKE_COMMAND} -E tar xzf "${ARCHIVE}" WORKING_DIRECTORY "${DEST}"
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "unpacking ${ARCHIVE} failed (${rc})")
endif()
file(TOUCH "${DEST}/corpus-tests/.unpacked")
