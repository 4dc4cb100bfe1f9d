# healerd as a Debian package, made by CPack's DEB generator from this build:
# `cpack -G DEB` in a build configured with -DCMAKE_INSTALL_PREFIX=/usr
# (scripts/package.sh makes one) gives healerd_VERSION_ARCH.deb. Its Depends
# come from dpkg-shlibdeps; the maintainer scripts in packaging/debian do
# what debhelper's would (sysusers, enable and start, reload D-Bus, purge).
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME healerd)
set(CPACK_PACKAGE_VENDOR "healerd")
set(CPACK_PACKAGE_CONTACT "healerd maintainers <root@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "self-healing daemon for systemd services")
# The long description; CPack indents it under the summary.
set(CPACK_PACKAGE_DESCRIPTION "healerd samples CPU, memory and pressure of the machine and of each watched
systemd unit, detects sustained failures (crash loops, leaks, runaways,
failed health probes), and recovers the unit by restarting it, raising its
memory or CPU limit, or running a rollback hook, as a policy learnt from its
own incidents chooses. healctl is its command-line client over D-Bus.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# Beside the shared libraries: PID 1 and the system bus it talks to, and
# systemd-sysusers for its group.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "systemd (>= 247), dbus")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "prometheus-node-exporter")
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

# dpkg keeps an edited conffile across upgrades and removes it on purge.
set(heal_conffiles "${HEAL_CONFDIR}/healerd.conf\n${HEAL_CONFDIR}/units.d/healerd-demo.service.conf\n")
file(WRITE ${CMAKE_BINARY_DIR}/packaging/conffiles "${heal_conffiles}")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_BINARY_DIR}/packaging/conffiles
    ${CMAKE_CURRENT_LIST_DIR}/debian/postinst
    ${CMAKE_CURRENT_LIST_DIR}/debian/prerm
    ${CMAKE_CURRENT_LIST_DIR}/debian/postrm)

# A package of a /usr/local build would start binaries the units do not name.
set(CPACK_PROJECT_CONFIG_FILE ${CMAKE_CURRENT_LIST_DIR}/check-prefix.cmake)
set(CPACK_HEAL_PACKAGE_PREFIX "${CMAKE_INSTALL_PREFIX}")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
include(CPack)
