// replay: the detector offline over a `timestamp,value` CSV; no daemon needed.
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "commands.hpp"
#include "detection/replay.hpp"
#include "detector_options.hpp"
#include "error.hpp"
#include "json_output.hpp"

namespace healctl {

namespace {

struct ReplayOptions {
    std::string file;  // "-" reads standard input
    DetectorFlags detector;
};

std::vector<heal::ReplayRow> replay(const std::string& file, const heal::AdaptiveDetectorConfig& config) {
    const std::string name = file == "-" ? "standard input" : file;
    try {
        if (file == "-") return heal::replay_csv(std::cin, config);
        std::ifstream in(file);
        if (!in) throw CtlError(Exit::usage, fmt::format("cannot open {}: {}.", file, std::strerror(errno)));
        return heal::replay_csv(in, config);
    } catch (const heal::ReplayError& e) {
        throw CtlError(Exit::failed, fmt::format("{}: {}.", name, e.what()));
    }
}

}  // namespace

Command add_replay_command(CLI::App& app, const GlobalOptions& global) {
    CLI::App* sub = app.add_subcommand(
        "replay", "Run the detector offline over a CSV of timestamp,value rows and mark each row 0/1");
    auto options = std::make_shared<ReplayOptions>();
    sub->add_option("FILE", options->file, "CSV file of timestamp,value rows; - reads standard input")->required();
    add_detector_options(sub, options->detector);
    return {sub, [&global, options] {
                const auto rows = replay(options->file, options->detector.resolve());
                if (global.json) {
                    Json out = Json::array();
                    for (const auto& row : rows)
                        out.push_back({{"timestamp", row.timestamp}, {"value", row.value}, {"anomaly", row.anomaly}});
                    print_json(out);
                    return;
                }
                std::string csv = "timestamp,value,anomaly\n";
                for (const auto& row : rows) csv += fmt::format("{},{},{}\n", row.timestamp, row.value, row.anomaly ? 1 : 0);
                fmt::print("{}", csv);
            }};
}

}  // namespace healctl
