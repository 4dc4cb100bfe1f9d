#include "storage/sqlite.hpp"

#include <fmt/core.h>
#include <sqlite3.h>

#include "storage/store.hpp"

namespace heal::sqlite {
namespace {

std::string_view describe_file_type(std::filesystem::file_type type) {
    using std::filesystem::file_type;
    switch (type) {
        case file_type::directory: return "a directory";
        case file_type::character: return "a character device";
        case file_type::block: return "a block device";
        case file_type::fifo: return "a FIFO";
        case file_type::socket: return "a socket";
        case file_type::symlink: return "a dangling symlink";
        default: return "not a file";
    }
}

}  // namespace

Connection::Connection(const std::filesystem::path& file, bool read_only) : file_(file) {
    // The daemon owns its directories; a missing one is a setup error, not
    // something to paper over by creating it here.
    const std::filesystem::path directory = file.has_parent_path() ? file.parent_path() : ".";
    std::error_code error;
    if (!std::filesystem::is_directory(directory, error)) {
        throw StoreError(
            fmt::format("{}: cannot open database: directory {} {}", file.string(), directory.string(),
                        std::filesystem::exists(directory, error) ? "is not a directory" : "does not exist"));
    }
    // SQLite would write FILE-journal and FILE-wal beside a device, a FIFO
    // or a directory (Path=/dev/null made /dev/null-journal): only regular
    // files, or symlinks to them, are databases.
    const auto status = std::filesystem::status(file, error);
    if (!error && status.type() != std::filesystem::file_type::regular)
        throw StoreError(fmt::format("{}: cannot open database: not a regular file ({})", file.string(),
                                     describe_file_type(status.type())));
    // Not thread-safe by design (one Store, one thread), so no SQLite mutexes.
    const int access = read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    const int flags = access | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
    const int rc = sqlite3_open_v2(file.c_str(), &db_, flags, nullptr);
    if (rc != SQLITE_OK) {
        const std::string message = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
        sqlite3_close_v2(db_);
        throw StoreError(fmt::format("{}: cannot open database: {}", file.string(), message));
    }
}

Connection::~Connection() {
    sqlite3_close_v2(db_);
}

void Connection::fail(std::string_view what) const {
    throw StoreError(fmt::format("{}: {}: {}", file_.string(), what, sqlite3_errmsg(db_)));
}

void Connection::exec(std::string_view sql, std::string_view what) {
    if (sqlite3_exec(db_, std::string(sql).c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) fail(what);
}

std::int64_t Connection::query_int(std::string_view sql, std::string_view what) {
    Statement statement(*this, sql);
    const auto use = statement.use();
    if (!statement.step(what)) fail(what);
    return statement.column_int(0);
}

std::string Connection::query_text(std::string_view sql, std::string_view what) {
    Statement statement(*this, sql);
    const auto use = statement.use();
    if (!statement.step(what)) fail(what);
    return statement.column_text(0);
}

std::int64_t Connection::changes() const {
    return sqlite3_changes64(db_);
}

std::int64_t Connection::last_insert_id() const {
    return sqlite3_last_insert_rowid(db_);
}

Statement::Statement(Connection& connection, std::string_view sql) : connection_(connection) {
    if (sqlite3_prepare_v3(connection.handle(), sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                           &stmt_, nullptr) != SQLITE_OK) {
        connection.fail(fmt::format("preparing \"{}\"", sql));
    }
}

Statement::~Statement() {
    sqlite3_finalize(stmt_);
}

Statement::Use::~Use() {
    sqlite3_reset(statement_.stmt_);
    sqlite3_clear_bindings(statement_.stmt_);
}

void Statement::check_bind(int rc) {
    if (rc != SQLITE_OK) connection_.fail("binding a parameter");
}

Statement& Statement::bind(int index, std::int64_t value) {
    check_bind(sqlite3_bind_int64(stmt_, index, value));
    return *this;
}

Statement& Statement::bind(int index, double value) {
    check_bind(sqlite3_bind_double(stmt_, index, value));
    return *this;
}

Statement& Statement::bind(int index, std::optional<double> value) {
    check_bind(value ? sqlite3_bind_double(stmt_, index, *value) : sqlite3_bind_null(stmt_, index));
    return *this;
}

Statement& Statement::bind(int index, std::optional<std::int64_t> value) {
    check_bind(value ? sqlite3_bind_int64(stmt_, index, *value) : sqlite3_bind_null(stmt_, index));
    return *this;
}

Statement& Statement::bind(int index, std::string_view text) {
    check_bind(sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
    return *this;
}

Statement& Statement::bind_blob(int index, std::span<const unsigned char> bytes) {
    // A null pointer would bind NULL; an empty blob is what is meant.
    check_bind(bytes.empty() ? sqlite3_bind_zeroblob(stmt_, index, 0)
                             : sqlite3_bind_blob64(stmt_, index, bytes.data(), bytes.size(), SQLITE_TRANSIENT));
    return *this;
}

bool Statement::step(std::string_view what) {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    connection_.fail(what);
}

void Statement::run(std::string_view what) {
    while (step(what)) {
    }
}

std::int64_t Statement::column_int(int index) const {
    return sqlite3_column_int64(stmt_, index);
}

double Statement::column_double(int index) const {
    return sqlite3_column_double(stmt_, index);
}

std::optional<double> Statement::column_optional_double(int index) const {
    if (sqlite3_column_type(stmt_, index) == SQLITE_NULL) return std::nullopt;
    return sqlite3_column_double(stmt_, index);
}

std::optional<std::int64_t> Statement::column_optional_int(int index) const {
    if (sqlite3_column_type(stmt_, index) == SQLITE_NULL) return std::nullopt;
    return sqlite3_column_int64(stmt_, index);
}

std::string Statement::column_text(int index) const {
    const auto* text = sqlite3_column_text(stmt_, index);
    return text ? std::string(reinterpret_cast<const char*>(text),
                              static_cast<std::size_t>(sqlite3_column_bytes(stmt_, index)))
                : std::string();
}

std::optional<std::string> Statement::column_optional_text(int index) const {
    if (sqlite3_column_type(stmt_, index) == SQLITE_NULL) return std::nullopt;
    return column_text(index);
}

std::span<const unsigned char> Statement::column_blob(int index) const {
    const auto* data = static_cast<const unsigned char*>(sqlite3_column_blob(stmt_, index));
    return {data, data ? static_cast<std::size_t>(sqlite3_column_bytes(stmt_, index)) : 0};
}

Transaction::Transaction(Connection& connection) : connection_(connection) {
    connection_.exec("BEGIN IMMEDIATE", "starting a transaction");
}

Transaction::~Transaction() {
    if (open_) sqlite3_exec(connection_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void Transaction::commit() {
    connection_.exec("COMMIT", "committing");
    open_ = false;
}

}  // namespace heal::sqlite
