#pragma once
// Debian's record of what is installed and when it changed, read from dpkg's
// own files rather than by running dpkg at every probe: which package owns a
// file (/var/lib/dpkg/info/PKG.list) and when a package's version last
// changed (/var/log/dpkg.log). A deploy is a version change; a first install
// or a reinstall of the same version is not.
#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace heal {

// One version change of a package, as dpkg.log records it.
struct PackageUpgrade {
    std::string package;  // without ":arch"
    std::string from;
    std::string to;
    std::chrono::system_clock::time_point at;

    bool operator==(const PackageUpgrade&) const = default;
};

class DpkgRecords {
public:
    explicit DpkgRecords(std::filesystem::path info_dir = "/var/lib/dpkg/info",
                         std::filesystem::path log = "/var/log/dpkg.log");

    // The package that owns `path`, also under its /usr-less spelling (dpkg
    // may have registered /lib/... for what systemd calls /usr/lib/...);
    // nullopt for a file no package owns. Remembered until a package is
    // installed or removed (the info directory changes).
    std::optional<std::string> owner(const std::filesystem::path& path);
    // The newest change of `package` to a different version; nullopt when
    // dpkg.log records none (never upgraded, first install only, or no log).
    // dpkg.log is read again only when it changed.
    std::optional<PackageUpgrade> last_upgrade(const std::string& package);

private:
    void refresh_log();

    std::filesystem::path info_dir_;
    std::filesystem::path log_;
    std::filesystem::file_time_type info_stamp_{};
    std::map<std::string, std::optional<std::string>> owners_;
    std::filesystem::file_time_type log_stamp_{};
    std::uintmax_t log_size_ = 0;
    std::map<std::string, PackageUpgrade> upgrades_;
};

// Parses one dpkg.log line ("2026-01-02 03:04:05 upgrade nginx:amd64 1.22-1 1.24-1",
// local time); nullopt for anything but an upgrade to another version.
std::optional<PackageUpgrade> parse_dpkg_upgrade(const std::string& line);

// Whether the unit counts as freshly deployed at `since` or later: when a
// package owns one of its `programs` (ExecStart=), that package changed
// version since; otherwise one of `files` (its programs and unit file) had
// its inode changed since (the rule for software not installed by dpkg).
bool deployed_since(DpkgRecords& dpkg, const std::vector<std::filesystem::path>& programs,
                    const std::vector<std::filesystem::path>& files, std::chrono::system_clock::time_point since);

}  // namespace heal
