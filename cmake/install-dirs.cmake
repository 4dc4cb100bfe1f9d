# Where healerd's system files go (the units, sysusers.d, the D-Bus policy,
# /etc/healerd). Each directory may be set on its own; left empty, it follows
# the prefix of this configure, not of the first one: a cached default would
# keep /usr/local after a later -DCMAKE_INSTALL_PREFIX=/usr.
function(heal_install_dir name default description)
  set(${name} "" CACHE PATH "${description} (default: ${default})")
  if(NOT ${name})
    set(${name} "${default}" PARENT_SCOPE)
  endif()
endfunction()
heal_install_dir(HEAL_SYSTEMD_UNITDIR "${CMAKE_INSTALL_PREFIX}/lib/systemd/system" "systemd system unit directory")
heal_install_dir(HEAL_SYSUSERSDIR "${CMAKE_INSTALL_PREFIX}/lib/sysusers.d" "sysusers.d directory")
heal_install_dir(HEAL_DBUS_POLICYDIR "${CMAKE_INSTALL_FULL_DATADIR}/dbus-1/system.d" "D-Bus system bus policy directory")
heal_install_dir(HEAL_CONFDIR "${CMAKE_INSTALL_FULL_SYSCONFDIR}/healerd" "healerd configuration directory")
