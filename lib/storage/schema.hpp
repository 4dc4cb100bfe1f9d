#pragma once
// Recognising, checking and migrating healerd's database. Internal to storage.
#include <cstdint>

#include "storage/sqlite.hpp"

namespace heal::schema {

// PRAGMA application_id of every healerd database: "Heal" in ASCII.
inline constexpr std::int32_t kApplicationId = 0x4865616c;

// Bytes a reset WAL file is cut back to (PRAGMA journal_size_limit).
inline constexpr std::int64_t kWalSizeLimit = 4 << 20;

// The page cache of healerd's connection, in KiB (PRAGMA cache_size).
inline constexpr std::int64_t kPageCacheKib = 256;

// Makes a just-opened connection ready for use: refuses (StoreError naming the
// file) a corrupt or foreign file, or one of a newer schema, without writing
// to it; then turns on WAL and migrates an older or empty one forward.
void prepare(sqlite::Connection& db);
// For a read-only connection: refuses (StoreError naming the file) a foreign
// file, or one of another schema version; checks nothing else and writes nothing.
void prepare_for_reading(sqlite::Connection& db);

}  // namespace heal::schema
