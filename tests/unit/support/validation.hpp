#pragma once
#include <stdexcept>
#include <string>

namespace heal::test {

// What `settings.validate()` refuses, as its message; "(accepted)" when it does not.
template <typename Settings>
std::string invalid_field(const Settings& settings) {
    try {
        settings.validate();
    } catch (const std::invalid_argument& error) {
        return error.what();
    }
    return "(accepted)";
}

}  // namespace heal::test
