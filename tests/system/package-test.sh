#!/bin/sh
# healerd's Debian package, installed into a throwaway systemd container
# (container.sh) as an operator would, and taken out again:
#   1. scripts/package.sh builds healerd_VERSION_ARCH.deb; its control file
#      names the shared libraries' packages, systemd and dbus, its conffiles
#      are /etc/healerd's, and it holds the binaries, units, D-Bus policy,
#      sysusers file and all three man pages;
#   2. apt-get install ./healerd_*.deb: the healerd group exists, healerd.service is enabled and
#      running, and healctl status answers root and an unprivileged user;
#      man -w finds healerd(8), healerd.conf(5) and healctl(1);
#   3. installed again over itself (an upgrade): an edited healerd.conf is
#      kept, and healerd is restarted; again with a policy-rc.d that forbids
#      it: healerd is left running as it was;
#   4. dpkg -r: healerd is stopped and its programs are gone, the edited
#      conffile stays;
#   5. dpkg -P: nothing of healerd is left under /etc, /var/lib and /usr (the
#      healerd group stays, as Debian's policy asks of system groups).
# The container's /usr is a writable overlay of the host's and its dpkg
# database a copy, both thrown away with it; the host's /usr/local is hidden,
# so that no healerd but the package's can answer.
#
# usage: package-test.sh BUILD_DIR
# Needs root and systemd-nspawn. Exits 77 (skipped) when not root. The package
# is built in BUILD_DIR/package (or $HEAL_PACKAGE_BUILD) with BUILD_DIR's
# compiler launcher and -Werror setting: with ccache and CCACHE_NOHASHDIR
# (scripts/test.sh sets both) it reuses BUILD_DIR's objects.
set -eu

ct_tag=package-test
DEMO=healerd-demo.service
# shellcheck source-path=SCRIPTDIR source=container.sh
. "$(dirname "$0")/container.sh"
ct_setup "${1:?usage: package-test.sh BUILD_DIR}"
root=$(cd "$(dirname "$0")/../.." && pwd)
: >"$work/results"

cached() { sed -n "s/^$1:[A-Z]*=//p" "$BUILD/CMakeCache.txt"; }

# ---- 1. the package ---------------------------------------------------------------

package_build=${HEAL_PACKAGE_BUILD:-$BUILD/package}
say "building the package in $package_build"
launcher=$(cached CMAKE_CXX_COMPILER_LAUNCHER)
werror=$(cached HEAL_WERROR)
HEAL_PACKAGE_CMAKE_OPTIONS="${launcher:+-DCMAKE_CXX_COMPILER_LAUNCHER=$launcher} -DHEAL_WERROR=${werror:-OFF}" \
    "$root/scripts/package.sh" "$package_build" >"$work/package.log" 2>&1 ||
    { cat "$work/package.log" >&2; die "scripts/package.sh failed"; }
deb=$(tail -n 1 "$work/package.log")
[ -f "$deb" ] || die "scripts/package.sh named no package: $(tail -n 3 "$work/package.log")"
say "package: $(basename "$deb"), $(du -k "$deb" | cut -f1) KiB"
dpkg-deb -f "$deb" Package Version Architecture Depends | sed 's/^/    /'
depends=$(dpkg-deb -f "$deb" Depends)
for dependency in libsystemd0 libsqlite3-0 libstdc++6 systemd dbus; do
    echo "$depends" | grep -q "\\b$dependency\\b" || check_failed "Depends names no $dependency: $depends"
done
dpkg-deb -I "$deb" conffiles >"$work/conffiles" 2>/dev/null || : >"$work/conffiles"
for conffile in /etc/healerd/healerd.conf "/etc/healerd/units.d/$DEMO.conf"; do
    grep -qx "$conffile" "$work/conffiles" || check_failed "$conffile is not a conffile"
done
dpkg-deb -c "$deb" | awk '{ print $NF }' | sed 's|^\./|/|; s|/$||' | grep -v '^/*$' >"$work/contents"
for file in /usr/sbin/healerd /usr/bin/healctl /usr/libexec/healerd/healerd-demo \
    /usr/lib/systemd/system/healerd.service /usr/share/dbus-1/system.d/org.healerd.Healer1.conf \
    /usr/lib/sysusers.d/healerd.conf /usr/share/man/man8/healerd.8 /usr/share/man/man5/healerd.conf.5 \
    /usr/share/man/man1/healctl.1 /usr/share/bash-completion/completions/healctl \
    /usr/share/zsh/vendor-completions/_healctl /etc/healerd/rollback.d; do
    grep -qx "$file" "$work/contents" || check_failed "the package holds no $file"
done
grep -q '^ExecStart=/usr/sbin/healerd$' "$package_build/systemd/healerd.service" ||
    check_failed "the packaged healerd.service does not start /usr/sbin/healerd"
echo "package files=$(wc -l <"$work/contents") conffiles=$(wc -l <"$work/conffiles")" >>"$work/results"

# ---- 2. install ----------------------------------------------------------------------

# shellcheck disable=SC2119 # no nspawn options of its own
ct_boot --overlay=/usr::/usr --tmpfs=/usr/local --bind-ro=/var/lib/dpkg:/run/host-dpkg --bind-ro="$(dirname "$deb")"
# dpkg's records of what /usr holds, as a copy the container may change. The
# fresh /etc lacks the host's groups that other packages' stat overrides name
# (ssl-cert, ...), which dpkg refuses: the copy drops those overrides.
in_ct sh -c 'mkdir -p /var/lib/dpkg && cp -a /run/host-dpkg/. /var/lib/dpkg/ && : >/var/lib/dpkg/statoverride' ||
    die "cannot copy dpkg's records into the container"
# man-db's configuration, which a fresh /etc lacks; and no policy-rc.d (this
# host's, for Docker, forbids every start) until the test writes its own.
in_ct sh -c 'cat > /etc/manpath.config' </etc/manpath.config
in_ct rm -f /usr/sbin/policy-rc.d

healerd_active() { [ "$(in_ct systemctl is-active healerd.service)" = active ]; }

# What the container holds before the package, to compare after the purge;
# dpkg's and apt's own records change with any package.
snapshot() {
    in_ct find /etc /var/lib /usr/lib/systemd /usr/lib/sysusers.d /usr/share/dbus-1 /usr/share/man \
        /usr/share/bash-completion /usr/sbin /usr/bin /usr/libexec /usr/share/healerd \
        -path /var/lib/dpkg -prune -o -path /var/lib/apt -prune -o -path /var/lib/systemd/random-seed -prune -o \
        -print 2>/dev/null | sort
}
snapshot >"$work/before"
# shellcheck disable=SC2016 # $f is the inner shell's
in_ct sh -c 'while read -r f; do [ ! -e "$f" ] || echo "$f"; done' <"$work/contents" >"$work/existed"

# As the README says; every dependency is installed already, so apt needs no
# package lists (the fresh /var has none).
in_ct env DEBIAN_FRONTEND=noninteractive apt-get install -y "$deb" >"$work/dpkg-install.log" 2>&1 ||
    { cat "$work/dpkg-install.log" >&2; die "apt-get install $deb failed"; }
say "apt-get install: $(grep -m1 '^Setting up' "$work/dpkg-install.log" || tail -n 1 "$work/dpkg-install.log")"
[ "$(in_ct dpkg-query -W -f='${Status}' healerd)" = "install ok installed" ] || check_failed "dpkg does not list healerd as installed"
in_ct getent group healerd >/dev/null || check_failed "no healerd group after the install"
enabled=$(in_ct systemctl is-enabled healerd.service || true)
[ "$enabled" = enabled ] || check_failed "healerd.service is $enabled after the install, not enabled"
wait_for 30 healerd_active || check_failed "healerd is not active after the install: $(in_ct systemctl is-active healerd || true)"
wait_for 30 healctl status || true
if healctl status >"$work/status" 2>&1; then
    say "healctl status answers: $(head -n 1 "$work/status")"
else
    check_failed "healctl status after the install: $(cat "$work/status")"
fi
as_nobody healctl status >/dev/null 2>"$work/err" || check_failed "healctl status as nobody: $(cat "$work/err")"
for page in healerd healerd.conf healctl; do
    path=$(in_ct man -w "$page" 2>&1) || { check_failed "man -w $page: $path"; continue; }
    say "man -w $page: $path"
done
echo "install enabled=$enabled active=$(in_ct systemctl is-active healerd || true) group=$(in_ct getent group healerd | cut -d: -f1)" >>"$work/results"

# ---- 3. upgrade keeps an edited conffile -----------------------------------------------

in_ct sh -c 'printf "\n# edited by the package test\n" >> /etc/healerd/healerd.conf'
pid_before=$(in_ct systemctl show -P MainPID healerd.service)
in_ct dpkg -i "$deb" >"$work/dpkg-upgrade.log" 2>&1 || { cat "$work/dpkg-upgrade.log" >&2; die "dpkg -i over itself failed"; }
in_ct grep -q "edited by the package test" /etc/healerd/healerd.conf || check_failed "the upgrade lost the edited healerd.conf"
wait_for 30 healerd_active || check_failed "healerd is not active after the upgrade"
pid_after=$(in_ct systemctl show -P MainPID healerd.service)
[ "$pid_after" != "$pid_before" ] || check_failed "the upgrade did not restart healerd (MainPID $pid_before)"
echo "upgrade conffile=kept restarted=$([ "$pid_after" != "$pid_before" ] && echo yes || echo no)" >>"$work/results"

# An administrator's policy-rc.d that forbids service actions is obeyed.
in_ct sh -c 'printf "#!/bin/sh\nexit 101\n" > /usr/sbin/policy-rc.d && chmod 0755 /usr/sbin/policy-rc.d'
in_ct dpkg -i "$deb" >"$work/dpkg-policy.log" 2>&1 || { cat "$work/dpkg-policy.log" >&2; die "dpkg -i under policy-rc.d failed"; }
pid_policy=$(in_ct systemctl show -P MainPID healerd.service)
[ "$pid_policy" = "$pid_after" ] || check_failed "healerd was restarted although policy-rc.d forbids it"
in_ct rm /usr/sbin/policy-rc.d
echo "policy-rc.d restarted=$([ "$pid_policy" != "$pid_after" ] && echo yes || echo no)" >>"$work/results"

# ---- 4. remove -----------------------------------------------------------------------------

in_ct dpkg -r healerd >"$work/dpkg-remove.log" 2>&1 || { cat "$work/dpkg-remove.log" >&2; die "dpkg -r failed"; }
state=$(in_ct systemctl is-active healerd.service || true)
[ "$state" != active ] || check_failed "healerd still runs after dpkg -r"
for file in /usr/sbin/healerd /usr/bin/healctl; do
    ! in_ct test -e "$file" || check_failed "$file is left after dpkg -r"
done
in_ct test -f /etc/healerd/healerd.conf || check_failed "dpkg -r removed the conffile (only a purge should)"
echo "remove healerd=$state conffile=kept" >>"$work/results"

# ---- 5. purge ------------------------------------------------------------------------------

in_ct dpkg -P healerd >"$work/dpkg-purge.log" 2>&1 || { cat "$work/dpkg-purge.log" >&2; die "dpkg -P failed"; }
snapshot >"$work/after"
# The group stays (Debian's policy on system users and groups); sysusers and
# the shadow tools leave backups of the files they edited.
comm -13 "$work/before" "$work/after" | grep -vx '/etc/group-\|/etc/gshadow-\|/etc/passwd-\|/etc/shadow-' >"$work/left" || true
# Of the package's own paths, only those there before it (/usr/bin, ...) may be.
# shellcheck disable=SC2016 # $f is the inner shell's
in_ct sh -c 'while read -r f; do [ ! -e "$f" ] || echo "$f"; done' <"$work/contents" |
    grep -vxF -f "$work/existed" >>"$work/left" || true
if [ -s "$work/left" ]; then
    check_failed "the purge left behind: $(sort -u "$work/left" | paste -sd' ')"
fi
echo "purge left=$(wc -l <"$work/left")" >>"$work/results"

ct_finish
