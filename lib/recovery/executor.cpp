#include "recovery/executor.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/limit_text.hpp"

namespace heal {

std::string describe(const std::vector<LimitChange>& changes) {
    std::vector<std::string> parts;
    for (const auto& change : changes) {
        parts.push_back(fmt::format("{} {} -> {}", limit_name(change.property),
                                    format_limit(change.property, change.from), format_limit(change.property, change.to)));
    }
    return fmt::format("{}", fmt::join(parts, ", "));
}

}  // namespace heal
