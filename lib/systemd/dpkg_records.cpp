#include "systemd/dpkg_records.hpp"

#include <ctime>
#include <fstream>
#include <iomanip>
#include <sstream>
#include <system_error>

#include "systemd/systemd_unit_probe.hpp"

namespace heal {
namespace {

std::filesystem::file_time_type modified(const std::filesystem::path& path) {
    std::error_code error;
    const auto time = std::filesystem::last_write_time(path, error);
    return error ? std::filesystem::file_time_type{} : time;
}

std::string without_arch(std::string package) {
    if (const auto colon = package.find(':'); colon != std::string::npos) package.resize(colon);
    return package;
}

// The package whose .list names `path`, searched file by file.
std::optional<std::string> find_owner(const std::filesystem::path& info_dir, const std::string& path) {
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(info_dir, error)) {
        if (entry.path().extension() != ".list") continue;
        std::ifstream list(entry.path());
        std::string line;
        while (std::getline(list, line))
            if (line == path) return without_arch(entry.path().stem().string());
    }
    return std::nullopt;
}

}  // namespace

DpkgRecords::DpkgRecords(std::filesystem::path info_dir, std::filesystem::path log)
    : info_dir_(std::move(info_dir)), log_(std::move(log)) {}

std::optional<std::string> DpkgRecords::owner(const std::filesystem::path& path) {
    if (const auto stamp = modified(info_dir_); stamp != info_stamp_) {
        owners_.clear();
        info_stamp_ = stamp;
    }
    const std::string text = path.lexically_normal().string();
    if (const auto known = owners_.find(text); known != owners_.end()) return known->second;
    std::optional<std::string> found = find_owner(info_dir_, text);
    if (!found && text.starts_with("/usr/")) found = find_owner(info_dir_, text.substr(4));
    owners_.emplace(text, found);
    return found;
}

std::optional<PackageUpgrade> parse_dpkg_upgrade(const std::string& line) {
    std::istringstream in(line);
    std::string date, time, what, package, from, to;
    if (!(in >> date >> time >> what >> package >> from >> to) || what != "upgrade" || from == to) return std::nullopt;
    std::tm local{};
    std::istringstream stamp(date + " " + time);
    stamp >> std::get_time(&local, "%Y-%m-%d %H:%M:%S");
    if (stamp.fail()) return std::nullopt;
    local.tm_isdst = -1;
    const std::time_t at = std::mktime(&local);
    if (at == static_cast<std::time_t>(-1)) return std::nullopt;
    return PackageUpgrade{without_arch(package), from, to, std::chrono::system_clock::from_time_t(at)};
}

void DpkgRecords::refresh_log() {
    std::error_code error;
    const auto size = std::filesystem::file_size(log_, error);
    const auto stamp = modified(log_);
    if (!error && stamp == log_stamp_ && size == log_size_) return;
    upgrades_.clear();
    log_stamp_ = stamp;
    log_size_ = error ? 0 : size;
    std::ifstream log(log_);
    std::string line;
    while (std::getline(log, line))
        if (auto upgrade = parse_dpkg_upgrade(line)) upgrades_.insert_or_assign(upgrade->package, std::move(*upgrade));
}

std::optional<PackageUpgrade> DpkgRecords::last_upgrade(const std::string& package) {
    refresh_log();
    const auto it = upgrades_.find(package);
    if (it == upgrades_.end()) return std::nullopt;
    return it->second;
}

bool deployed_since(DpkgRecords& dpkg, const std::vector<std::filesystem::path>& programs,
                    const std::vector<std::filesystem::path>& files, std::chrono::system_clock::time_point since) {
    bool packaged = false;
    for (const auto& program : programs) {
        const auto package = dpkg.owner(program);
        if (!package) continue;
        packaged = true;
        if (const auto upgrade = dpkg.last_upgrade(*package); upgrade && upgrade->at >= since) return true;
    }
    return !packaged && changed_since(files, since);
}

}  // namespace heal
