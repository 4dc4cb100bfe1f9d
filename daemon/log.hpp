#pragma once
// healerd's log: structured journal entries when systemd started us, plain
// lines on stderr otherwise. Each kind of event has one fixed MESSAGE_ID so
// `journalctl -u healerd MESSAGE_ID=...` finds it.
#include <string>
#include <string_view>
#include <vector>

#include <syslog.h>

namespace healerd {

// journalctl's 128-bit ids, written once here (see healerd(8) for the list).
namespace message_id {
inline constexpr std::string_view failure_detected = "65deafd6e8fa45a6aae003ff1d58906e";
inline constexpr std::string_view recovery_started = "55f0167693b441518f3b52c34512d162";
inline constexpr std::string_view recovery_finished = "89fcb0b3257f48948fe41c8dd9168be9";
inline constexpr std::string_view incident_resolved = "f14420d8ee994742ac4c3a5f56927b50";
inline constexpr std::string_view incident_given_up = "6b1c2e0a7d8f4c39a5e2b7d410f3c8e1";
inline constexpr std::string_view training_finished = "64117e668bd446bdb842013f1db12914";
inline constexpr std::string_view policy_retrained = "855796a05e09431abad7085b6d9afef3";
inline constexpr std::string_view config_error = "9904ccdcb12c497384ba14d370e727d0";
inline constexpr std::string_view access_denied = "d9ccbc5be78a491a9d28aac4e84b2d91";
inline constexpr std::string_view rate_limited = "7a4db7d206c245c4b8094c500ca00887";
inline constexpr std::string_view target_paused = "1d3ebddd849f44e89e76c842aeff2dfb";
inline constexpr std::string_view target_resumed = "d6293d95e61a4099a9e3996f92f731e6";
inline constexpr std::string_view pause_expired = "329b2fb329c7405c82b2d1a346541377";
inline constexpr std::string_view breaker_opened = "94045ae5445b41fc895c2096ec16b554";
inline constexpr std::string_view breaker_closed = "6887a18570fd4e31bbcc72feeea4e286";
inline constexpr std::string_view unit_stopped = "ba54134aa5c3400b976f02f5c06ac508";
inline constexpr std::string_view limit_raised = "a4746c28741b422985dce5d63b3024a6";
inline constexpr std::string_view limit_restored = "09eb5061c5fe44bfa9af18d3f17ff1ea";
inline constexpr std::string_view limit_restore_deferred = "2b21ae23f81148c3b851b7b3df18ffd0";
inline constexpr std::string_view alert_sent = "328e039ac6bb42fabdc416bec24a2870";
}  // namespace message_id

struct LogField {
    std::string_view name;  // UNIT, ACTION, RESULT, REWARD, RECOVERY_TIME, ...
    std::string value;
};

// Decides once, from the environment, where log lines go: the journal when
// systemd started healerd (INVOCATION_ID or JOURNAL_STREAM set), else stderr.
void init_log();

// `priority` is a syslog level (LOG_ERR ... LOG_DEBUG); `id` may be empty.
void log(int priority, std::string_view id, const std::string& message, const std::vector<LogField>& fields = {});

inline void log_info(const std::string& message) { log(LOG_INFO, {}, message); }
inline void log_warning(const std::string& message) { log(LOG_WARNING, {}, message); }
inline void log_error(const std::string& message) { log(LOG_ERR, {}, message); }

}  // namespace healerd
