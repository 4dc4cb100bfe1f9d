# Read by cpack: refuses a build whose units and paths were configured for
# another prefix than the package's /usr.
if(NOT CPACK_HEAL_PACKAGE_PREFIX STREQUAL "/usr")
  message(FATAL_ERROR "healerd's package needs a build configured with -DCMAKE_INSTALL_PREFIX=/usr "
                      "(this one has ${CPACK_HEAL_PACKAGE_PREFIX}); scripts/package.sh makes one")
endif()
